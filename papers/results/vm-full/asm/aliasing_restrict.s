	.file	"aliasing_kernels.cpp"
	.text
	.p2align 4
	.globl	rca_lab_alias_restrict_inline_u32
	.type	rca_lab_alias_restrict_inline_u32, @function
rca_lab_alias_restrict_inline_u32:
.LFB55:
	.cfi_startproc
	testq	%rsi, %rsi
	je	.L11
	movsd	.LC1(%rip), %xmm3
	leaq	(%rdi,%rsi,8), %rsi
	pxor	%xmm2, %xmm2
	.p2align 4,,10
	.p2align 3
.L10:
	movq	(%rdi), %rdx
	pxor	%xmm1, %xmm1
	pxor	%xmm0, %xmm0
	movl	16(%rdx), %eax
	movl	20(%rdx), %ecx
	cvtsi2sdq	%rax, %xmm1
	movl	(%rdx), %eax
	cvtsi2sdq	%rcx, %xmm0
	mulsd	%xmm1, %xmm0
	addsd	%xmm1, %xmm0
	testl	%eax, %eax
	js	.L9
	addl	$1, %eax
	js	.L14
	cmpl	$1, %eax
	jne	.L9
	addsd	%xmm3, %xmm0
.L9:
	addsd	%xmm0, %xmm1
	addq	$8, %rdi
	addsd	%xmm1, %xmm2
	cmpq	%rdi, %rsi
	jne	.L10
	movapd	%xmm2, %xmm0
	ret
	.p2align 4,,10
	.p2align 3
.L11:
	pxor	%xmm2, %xmm2
	movapd	%xmm2, %xmm0
	ret
.L14:
	movl	$-2147483648, (%rdx)
	jmp	.L9
	.cfi_endproc
.LFE55:
	.size	rca_lab_alias_restrict_inline_u32, .-rca_lab_alias_restrict_inline_u32
	.p2align 4
	.globl	rca_lab_alias_restrict_inline_f64
	.type	rca_lab_alias_restrict_inline_f64, @function
rca_lab_alias_restrict_inline_f64:
.LFB56:
	.cfi_startproc
	testq	%rsi, %rsi
	je	.L21
	movsd	.LC1(%rip), %xmm3
	leaq	(%rdi,%rsi,8), %rcx
	pxor	%xmm2, %xmm2
	.p2align 4,,10
	.p2align 3
.L20:
	movq	(%rdi), %rdx
	movsd	16(%rdx), %xmm0
	movsd	24(%rdx), %xmm1
	movl	(%rdx), %eax
	mulsd	%xmm0, %xmm1
	addsd	%xmm0, %xmm1
	testl	%eax, %eax
	js	.L19
	addl	$1, %eax
	js	.L23
	cmpl	$1, %eax
	jne	.L19
	addsd	%xmm3, %xmm1
.L19:
	addsd	%xmm1, %xmm0
	addq	$8, %rdi
	addsd	%xmm0, %xmm2
	cmpq	%rdi, %rcx
	jne	.L20
	movapd	%xmm2, %xmm0
	ret
	.p2align 4,,10
	.p2align 3
.L21:
	pxor	%xmm2, %xmm2
	movapd	%xmm2, %xmm0
	ret
.L23:
	movl	$-2147483648, (%rdx)
	jmp	.L19
	.cfi_endproc
.LFE56:
	.size	rca_lab_alias_restrict_inline_f64, .-rca_lab_alias_restrict_inline_f64
	.p2align 4
	.globl	rca_lab_alias_restrict_handle_u32
	.type	rca_lab_alias_restrict_handle_u32, @function
rca_lab_alias_restrict_handle_u32:
.LFB57:
	.cfi_startproc
	testq	%rsi, %rsi
	je	.L34
	movsd	.LC1(%rip), %xmm3
	leaq	(%rdi,%rsi,8), %rsi
	pxor	%xmm2, %xmm2
	.p2align 4,,10
	.p2align 3
.L33:
	movq	(%rdi), %rdx
	pxor	%xmm1, %xmm1
	pxor	%xmm0, %xmm0
	movl	16(%rdx), %eax
	movq	(%rdx), %rcx
	movl	20(%rdx), %edx
	cvtsi2sdq	%rax, %xmm1
	movl	(%rcx), %eax
	cvtsi2sdq	%rdx, %xmm0
	mulsd	%xmm1, %xmm0
	addsd	%xmm1, %xmm0
	testl	%eax, %eax
	js	.L32
	addl	$1, %eax
	js	.L36
	cmpl	$1, %eax
	jne	.L32
	addsd	%xmm3, %xmm0
.L32:
	addsd	%xmm0, %xmm1
	addq	$8, %rdi
	addsd	%xmm1, %xmm2
	cmpq	%rdi, %rsi
	jne	.L33
	movapd	%xmm2, %xmm0
	ret
	.p2align 4,,10
	.p2align 3
.L34:
	pxor	%xmm2, %xmm2
	movapd	%xmm2, %xmm0
	ret
.L36:
	movl	$-2147483648, (%rcx)
	jmp	.L32
	.cfi_endproc
.LFE57:
	.size	rca_lab_alias_restrict_handle_u32, .-rca_lab_alias_restrict_handle_u32
	.p2align 4
	.globl	rca_lab_alias_restrict_handle_f64
	.type	rca_lab_alias_restrict_handle_f64, @function
rca_lab_alias_restrict_handle_f64:
.LFB58:
	.cfi_startproc
	testq	%rsi, %rsi
	je	.L43
	movsd	.LC1(%rip), %xmm3
	leaq	(%rdi,%rsi,8), %rsi
	pxor	%xmm2, %xmm2
	.p2align 4,,10
	.p2align 3
.L42:
	movq	(%rdi), %rdx
	movsd	16(%rdx), %xmm0
	movsd	24(%rdx), %xmm1
	movq	(%rdx), %rcx
	mulsd	%xmm0, %xmm1
	movl	(%rcx), %eax
	addsd	%xmm0, %xmm1
	testl	%eax, %eax
	js	.L41
	addl	$1, %eax
	js	.L45
	cmpl	$1, %eax
	jne	.L41
	addsd	%xmm3, %xmm1
.L41:
	addsd	%xmm1, %xmm0
	addq	$8, %rdi
	addsd	%xmm0, %xmm2
	cmpq	%rdi, %rsi
	jne	.L42
	movapd	%xmm2, %xmm0
	ret
	.p2align 4,,10
	.p2align 3
.L43:
	pxor	%xmm2, %xmm2
	movapd	%xmm2, %xmm0
	ret
.L45:
	movl	$-2147483648, (%rcx)
	jmp	.L41
	.cfi_endproc
.LFE58:
	.size	rca_lab_alias_restrict_handle_f64, .-rca_lab_alias_restrict_handle_f64
	.section	.rodata.cst8,"aM",@progbits,8
	.align 8
.LC1:
	.long	0
	.long	1072693248
	.ident	"GCC: (Debian 12.2.0-14+deb12u1) 12.2.0"
	.section	.note.GNU-stack,"",@progbits
