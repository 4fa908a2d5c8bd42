/*
 * replay_main.c — runs a libFuzzer target's corpus without libFuzzer, so
 * that the seeds and every saved crasher are replayed by `make check` in
 * the ordinary and the sanitizer builds.  Usage: <target>_replay DIR...
 * Every regular file in each DIR is fed to LLVMFuzzerTestOneInput once;
 * its name goes to stderr first, so a crash names its input.  Reaching
 * the summary line means no input crashed or tripped a sanitizer.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPLAY_MAX (16 * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 if run, 0 if not a regular file, -1 if unreadable. */
static int
replay_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if (st.st_size > REPLAY_MAX || (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return -1;
	}
	fprintf(stderr, "replay %s (%zu bytes)\n", path, got);
	/* an exact-size copy, so that ASan sees any read past the end */
	LLVMFuzzerTestOneInput(buf, got);
	free(buf);
	return 1;
}

int
main(int argc, char **argv)
{
	int ran = 0, unreadable = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		char path[4096];

		if (d == NULL) {
			fprintf(stderr, "replay: cannot open %s\n", argv[i]);
			return 2;
		}
		while ((e = readdir(d)) != NULL) {
			int r;

			if (e->d_name[0] == '.')
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name) >=
			    sizeof(path)) {
				unreadable++;
				continue;
			}
			if ((r = replay_file(path)) > 0)
				ran++;
			else if (r < 0) {
				fprintf(stderr, "replay: cannot read %s\n", path);
				unreadable++;
			}
		}
		closedir(d);
	}
	printf("%d passed, %d failed\n", ran, unreadable);
	return ran > 0 && unreadable == 0 ? 0 : 1;
}
