// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A connection-rate load generator for bench/bench_accept.sh: NPROC processes, each in a loop for
 * SECONDS: connect to ADDR:PORT, send an HTTP/1.0 GET, read the answer to EOF, close. Prints
 * "CONNECTIONS ELAPSED_S" (all processes together) and exits 0, or 1 on a failed connection.
 * Usage: connrate ADDR PORT SECONDS NPROC
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int one(const struct sockaddr_in *sa)
{
	static const char req[] = "GET / HTTP/1.0\r\nHost: bench\r\n\r\n";
	char buf[4096];
	struct linger lg = {1, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t n;

	if (fd < 0)
		return -1;
	/* No TIME_WAIT on the client: its ports are reused at once. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	return n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fds[2], nproc, i, rc = 0;
	double secs, t0;
	long total = 0;

	if (argc != 5 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: connrate ADDR PORT SECONDS NPROC\n");
		return 2;
	}
	sa.sin_port = htons(atoi(argv[2]));
	secs = atof(argv[3]);
	nproc = atoi(argv[4]);
	if (pipe(fds))
		return 1;
	t0 = now();
	for (i = 0; i < nproc; i++) {
		if (fork() == 0) {
			long n = 0;

			while (now() - t0 < secs) {
				if (one(&sa))
					_exit(1);
				n++;
			}
			if (write(fds[1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
	}
	close(fds[1]);
	for (i = 0; i < nproc; i++) {
		int st;
		long n;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			rc = 1;
		if (read(fds[0], &n, sizeof(n)) == sizeof(n))
			total += n;
	}
	printf("%ld %.3f\n", total, now() - t0);
	return rc;
}
