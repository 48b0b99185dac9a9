	.file	"aliasing_kernels.cpp"
	.text
	.p2align 4
	.globl	rca_lab_alias_restrict_inline_u32
	.type	rca_lab_alias_restrict_inline_u32, @function
rca_lab_alias_restrict_inline_u32:
.LFB55:
	.cfi_startproc
	pxor	%xmm2, %xmm2
	testq	%rsi, %rsi
	je	.L1
	movsd	.LC1(%rip), %xmm4
	xorl	%edx, %edx
	.p2align 4,,10
	.p2align 3
.L13:
	movq	(%rdi,%rdx,8), %rax
	pxor	%xmm3, %xmm3
	movl	16(%rax), %r8d
	movl	(%rax), %ecx
	cvtsi2sdq	%r8, %xmm3
	testl	%ecx, %ecx
	js	.L5
	addl	$1, %ecx
	movl	%ecx, (%rax)
.L5:
	movl	20(%rax), %ecx
	pxor	%xmm1, %xmm1
	pxor	%xmm0, %xmm0
	cvtsi2sdq	%r8, %xmm1
	cvtsi2sdq	%rcx, %xmm0
	movl	(%rax), %ecx
	mulsd	%xmm1, %xmm0
	addsd	%xmm3, %xmm0
	testl	%ecx, %ecx
	js	.L11
	leal	-1(%rcx), %r8d
	movl	%r8d, (%rax)
	cmpl	$1, %ecx
	jne	.L11
	addsd	%xmm4, %xmm0
.L11:
	addsd	%xmm0, %xmm1
	addq	$1, %rdx
	addsd	%xmm1, %xmm2
	cmpq	%rdx, %rsi
	jne	.L13
.L1:
	movapd	%xmm2, %xmm0
	ret
	.cfi_endproc
.LFE55:
	.size	rca_lab_alias_restrict_inline_u32, .-rca_lab_alias_restrict_inline_u32
	.p2align 4
	.globl	rca_lab_alias_restrict_inline_f64
	.type	rca_lab_alias_restrict_inline_f64, @function
rca_lab_alias_restrict_inline_f64:
.LFB56:
	.cfi_startproc
	pxor	%xmm2, %xmm2
	testq	%rsi, %rsi
	je	.L17
	movsd	.LC1(%rip), %xmm3
	xorl	%edx, %edx
	.p2align 4,,10
	.p2align 3
.L23:
	movq	(%rdi,%rdx,8), %rax
	movl	(%rax), %ecx
	movsd	16(%rax), %xmm0
	testl	%ecx, %ecx
	js	.L19
	addl	$1, %ecx
	movl	%ecx, (%rax)
.L19:
	movsd	24(%rax), %xmm1
	movl	(%rax), %ecx
	mulsd	%xmm0, %xmm1
	addsd	%xmm0, %xmm1
	testl	%ecx, %ecx
	js	.L21
	leal	-1(%rcx), %r8d
	movl	%r8d, (%rax)
	cmpl	$1, %ecx
	jne	.L21
	addsd	%xmm3, %xmm1
.L21:
	addsd	%xmm1, %xmm0
	addq	$1, %rdx
	addsd	%xmm0, %xmm2
	cmpq	%rdx, %rsi
	jne	.L23
.L17:
	movapd	%xmm2, %xmm0
	ret
	.cfi_endproc
.LFE56:
	.size	rca_lab_alias_restrict_inline_f64, .-rca_lab_alias_restrict_inline_f64
	.p2align 4
	.globl	rca_lab_alias_restrict_handle_u32
	.type	rca_lab_alias_restrict_handle_u32, @function
rca_lab_alias_restrict_handle_u32:
.LFB57:
	.cfi_startproc
	pxor	%xmm2, %xmm2
	testq	%rsi, %rsi
	je	.L26
	movsd	.LC1(%rip), %xmm4
	xorl	%edx, %edx
	.p2align 4,,10
	.p2align 3
.L38:
	movq	(%rdi,%rdx,8), %rcx
	pxor	%xmm3, %xmm3
	movq	(%rcx), %rax
	movl	16(%rcx), %r9d
	movl	(%rax), %r8d
	cvtsi2sdq	%r9, %xmm3
	testl	%r8d, %r8d
	js	.L30
	addl	$1, %r8d
	movl	%r8d, (%rax)
.L30:
	movl	20(%rcx), %ecx
	pxor	%xmm1, %xmm1
	pxor	%xmm0, %xmm0
	cvtsi2sdq	%r9, %xmm1
	cvtsi2sdq	%rcx, %xmm0
	movl	(%rax), %ecx
	mulsd	%xmm1, %xmm0
	addsd	%xmm3, %xmm0
	testl	%ecx, %ecx
	js	.L36
	leal	-1(%rcx), %r8d
	movl	%r8d, (%rax)
	cmpl	$1, %ecx
	jne	.L36
	addsd	%xmm4, %xmm0
.L36:
	addsd	%xmm0, %xmm1
	addq	$1, %rdx
	addsd	%xmm1, %xmm2
	cmpq	%rdx, %rsi
	jne	.L38
.L26:
	movapd	%xmm2, %xmm0
	ret
	.cfi_endproc
.LFE57:
	.size	rca_lab_alias_restrict_handle_u32, .-rca_lab_alias_restrict_handle_u32
	.p2align 4
	.globl	rca_lab_alias_restrict_handle_f64
	.type	rca_lab_alias_restrict_handle_f64, @function
rca_lab_alias_restrict_handle_f64:
.LFB58:
	.cfi_startproc
	pxor	%xmm2, %xmm2
	testq	%rsi, %rsi
	je	.L41
	movsd	.LC1(%rip), %xmm3
	xorl	%edx, %edx
	.p2align 4,,10
	.p2align 3
.L47:
	movq	(%rdi,%rdx,8), %rcx
	movq	(%rcx), %rax
	movsd	16(%rcx), %xmm0
	movl	(%rax), %r8d
	testl	%r8d, %r8d
	js	.L43
	addl	$1, %r8d
	movl	%r8d, (%rax)
.L43:
	movsd	24(%rcx), %xmm1
	movl	(%rax), %ecx
	mulsd	%xmm0, %xmm1
	addsd	%xmm0, %xmm1
	testl	%ecx, %ecx
	js	.L45
	leal	-1(%rcx), %r8d
	movl	%r8d, (%rax)
	cmpl	$1, %ecx
	jne	.L45
	addsd	%xmm3, %xmm1
.L45:
	addsd	%xmm1, %xmm0
	addq	$1, %rdx
	addsd	%xmm0, %xmm2
	cmpq	%rdx, %rsi
	jne	.L47
.L41:
	movapd	%xmm2, %xmm0
	ret
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
