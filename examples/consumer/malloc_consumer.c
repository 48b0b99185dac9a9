/* A program that takes rca malloc as its malloc by linking it (installed package): malloc must
 * come from librca_malloc (shared) or from the program itself (librca_malloc.a), never libc. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  Dl_info info;
  void *(*m)(size_t) = malloc;
  if (!dladdr((void *)m, &info) || (info.dli_fname && strstr(info.dli_fname, "libc.so"))) {
    fprintf(stderr, "malloc_consumer: malloc is libc's, not rca's\n");
    return 1;
  }
  void *blocks[1000];
  for (int i = 0; i < 1000; ++i) blocks[i] = malloc((size_t)i * 37 + 1);
  for (int i = 0; i < 1000; ++i) free(blocks[i]);
  printf("malloc_consumer: malloc from %s\n", info.dli_fname);
  return 0;
}
