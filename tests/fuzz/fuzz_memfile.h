/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The libFuzzer targets of the binary analysers open files by path: each input is written to one
 * memfd, opened as /proc/self/fd/N (a regular file, read like any other).
 */
#ifndef AT_FUZZ_MEMFILE_H
#define AT_FUZZ_MEMFILE_H
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *fuzz_memfile(const unsigned char *data, size_t size)
{
	static char path[64];
	static int fd = -1;
	size_t done = 0;

	if (fd < 0) {
		fd = memfd_create("fuzz-input", 0);
		if (fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0))
		abort();
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, done);

		if (n <= 0)
			abort();
		done += n;
	}
	return path;
}
#endif
