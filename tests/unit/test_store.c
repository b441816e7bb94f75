/* test_store.c: safe files (modes, refusals, atomic replace, size cap) from src/store.c
 * and the provider lock from src/lock.c, with real directories and real processes. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oktacred/buf.h"
#include "oktacred/lock.h"
#include "oktacred/paths.h"
#include "oktacred/sig.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

#include "helpers.h"

/* Text written to path with mode. */
static void write_file(const char *path, const char *text, mode_t mode)
{
	test_write_file(path, text, strlen(text), mode);
}

static char tmpdir[] = "/tmp/okc-store-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
	chmod(tmpdir, 0700);
}

static void teardown(void)
{
	test_rmtree(tmpdir);
}

static char *at(const char *name)
{
	return paths_join(tmpdir, name);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

/* The names in dir, sorted and joined by spaces (dot files included). */
static char *listing(const char *dir)
{
	struct buf b = BUF_INIT;
	char *names[64];
	size_t n = 0, i, j;
	DIR *d = opendir(dir);
	struct dirent *e;

	cr_assert_not_null(d);
	while ((e = readdir(d)) && n < 64)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			names[n++] = xstrdup(e->d_name);
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	buf_puts(&b, "");
	for (i = 0; i < n; i++) {
		buf_printf(&b, "%s%s", i ? " " : "", names[i]);
		free(names[i]);
	}
	return buf_detach(&b);
}

TestSuite(store, .init = setup, .fini = teardown);

Test(store, ensure_dir_creates_0700_tree)
{
	char *root = at("cfg/oktacred"), *dir = at("cfg/oktacred/okta/prov");
	char *mid = at("cfg/oktacred/okta"), *above = at("cfg");
	okc_err err;

	umask(022);
	cr_assert_eq(store_ensure_dir(root, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(mode_of(root), 0700);
	cr_assert_eq(mode_of(mid), 0700);
	cr_assert_eq(mode_of(dir), 0700);
	cr_assert_eq(mode_of(above), 0700, "a missing parent above root is created 0700");
	/* Again: everything exists, still fine. */
	cr_assert_eq(store_ensure_dir(root, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(store_check_tree(root, dir, &err), 0, "%s", err.msg);
	free(root), free(dir), free(mid), free(above);
}

Test(store, ensure_dir_mode_exact_under_odd_umask)
{
	char *root = at("r"), *dir = at("r/okta/p");
	okc_err err;

	umask(0277);
	cr_assert_eq(store_ensure_dir(root, dir, &err), 0, "%s", err.msg);
	umask(022);
	cr_assert_eq(mode_of(root), 0700);
	cr_assert_eq(mode_of(dir), 0700);
	free(root), free(dir);
}

Test(store, ensure_dir_refuses_symlinked_directory)
{
	char *root = at("r"), *real = at("elsewhere"), *link = at("r/okta"), *dir = at("r/okta/p");
	okc_err err;

	cr_assert_eq(mkdir(root, 0700), 0);
	cr_assert_eq(mkdir(real, 0700), 0);
	cr_assert_eq(symlink(real, link), 0);
	cr_assert_eq(store_ensure_dir(root, dir, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert(strstr(err.msg, "is a symbolic link"), "%s", err.msg);
	cr_assert(strstr(err.msg, link), "%s", err.msg);
	cr_assert_eq(store_check_tree(root, dir, &err), -1);
	cr_assert_eq(store_check_dir(link, &err), -1);
	cr_assert(strstr(err.msg, "symbolic link"), "%s", err.msg);
	free(root), free(real), free(link), free(dir);
}

Test(store, ensure_dir_refuses_loose_directory)
{
	char *root = at("r"), *mid = at("r/okta"), *dir = at("r/okta/p");
	okc_err err;

	cr_assert_eq(mkdir(root, 0700), 0);
	cr_assert_eq(mkdir(mid, 0700), 0);
	cr_assert_eq(chmod(mid, 0755), 0);
	cr_assert_eq(store_ensure_dir(root, dir, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert(strstr(err.msg, "has mode 0755"), "%s", err.msg);
	cr_assert(strstr(err.hint, "chmod 700"), "%s", err.hint);
	cr_assert(strstr(err.hint, mid), "%s", err.hint);
	cr_assert_eq(access(dir, F_OK), -1, "nothing is created below a refused directory");
	cr_assert_eq(store_check_dir(mid, &err), -1);
	cr_assert(strstr(err.hint, "chmod 700"), "%s", err.hint);
	/* root itself is judged too: others may read it (`mkdir -p` makes it 0755), not
	 * write to it */
	cr_assert_eq(chmod(mid, 0700), 0);
	cr_assert_eq(chmod(root, 0755), 0);
	cr_assert_eq(store_ensure_dir(root, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(store_check_tree(root, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(mode_of(dir), 0700, "what oktacred creates below it is closed");
	cr_assert_eq(chmod(root, 0775), 0);
	cr_assert_eq(store_ensure_dir(root, dir, &err), -1);
	cr_assert(strstr(err.msg, "has mode 0775"), "%s", err.msg);
	cr_assert(strstr(err.hint, "chmod go-w"), "%s", err.hint);
	cr_assert_eq(chmod(root, 0702), 0);
	cr_assert_eq(store_check_tree(root, dir, &err), -1);
	cr_assert(strstr(err.hint, "chmod go-w"), "%s", err.hint);
	free(root), free(mid), free(dir);
}

Test(store, ensure_dir_refuses_a_file_and_paths_outside_root)
{
	char *root = at("r"), *file = at("r/okta"), *dir = at("r/okta/p");
	okc_err err;

	cr_assert_eq(mkdir(root, 0700), 0);
	write_file(file, "x", 0600);
	cr_assert_eq(store_ensure_dir(root, dir, &err), -1);
	cr_assert(strstr(err.msg, "not a directory"), "%s", err.msg);
	cr_assert_eq(store_ensure_dir(root, "/tmp/elsewhere", &err), -1);
	cr_assert_eq(store_ensure_dir("/tmp/okc", "/tmp/okc-other/x", &err), -1);
	free(root), free(file), free(dir);
}

Test(store, hint_quotes_unusual_paths)
{
	char *dir = at("it's here");
	okc_err err;

	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(chmod(dir, 0755), 0);
	cr_assert_eq(store_check_dir(dir, &err), -1);
	cr_assert(strstr(err.hint, "chmod 700 '"), "%s", err.hint);
	cr_assert(strstr(err.hint, "it'\\''s here'"), "%s", err.hint);
	free(dir);
}

Test(store, foreign_owner_refused)
{
	char *file = at("f"), *dir = at("d");
	struct buf b = BUF_INIT;
	okc_err err;

	if (geteuid() != 0)
		cr_skip_test("needs root to chown");
	write_file(file, "x", 0600);
	cr_assert_eq(chown(file, 12345, 12345), 0);
	cr_assert_eq(store_read(file, 100, &b, &err), -1);
	cr_assert(strstr(err.msg, "is owned by uid 12345, not you (uid 0)"), "%s", err.msg);
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(chown(dir, 12345, 12345), 0);
	cr_assert_eq(store_check_dir(dir, &err), -1);
	cr_assert(strstr(err.msg, "owned by uid 12345"), "%s", err.msg);
	free(file), free(dir);
}

Test(store, read_refuses_symlinked_file)
{
	char *real = at("real"), *link = at("tokens.json");
	struct buf b = BUF_INIT;
	okc_err err;

	write_file(real, "{}", 0600);
	cr_assert_eq(symlink(real, link), 0);
	cr_assert_eq(store_read(link, 100, &b, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert(strstr(err.msg, "is a symbolic link; oktacred does not follow links"), "%s",
	          err.msg);
	cr_assert_null(b.data);
	free(real), free(link);
}

Test(store, read_refuses_loose_file)
{
	char *file = at("tokens.json");
	struct buf b = BUF_INIT;
	okc_err err;

	write_file(file, "{}", 0644);
	cr_assert_eq(store_read(file, 100, &b, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert(strstr(err.msg, "has mode 0644"), "%s", err.msg);
	cr_assert(strstr(err.hint, "run: chmod 600 "), "%s", err.hint);
	cr_assert(strstr(err.hint, file), "%s", err.hint);
	cr_assert_eq(chmod(file, 0600), 0);
	cr_assert_eq(store_read(file, 100, &b, &err), 0, "%s", err.msg);
	cr_assert_str_eq(b.data, "{}");
	buf_free(&b);
	free(file);
}

Test(store, read_refuses_fifo_without_hanging)
{
	char *fifo = at("tokens.json");
	struct buf b = BUF_INIT;
	okc_err err;

	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(store_read(fifo, 100, &b, &err), -1);
	cr_assert(strstr(err.msg, "not a regular file"), "%s", err.msg);
	free(fifo);
}

Test(store, read_missing_is_noent)
{
	char *file = at("nope"), *dir = at("nodir");
	struct buf b = BUF_INIT;
	okc_err err;

	cr_assert_eq(store_read(file, 100, &b, &err), OKC_NOENT);
	cr_assert_eq(store_check_dir(dir, &err), OKC_NOENT);
	cr_assert_eq(store_check_tree(tmpdir, dir, &err), OKC_NOENT);
	free(file), free(dir);
}

Test(store, read_size_cap)
{
	char *file = at("big");
	char text[102];
	struct buf b = BUF_INIT;
	okc_err err;

	memset(text, 'a', 101);
	text[101] = '\0';
	write_file(file, text, 0600);
	cr_assert_eq(store_read(file, 100, &b, &err), -1);
	cr_assert(strstr(err.msg, "is larger than 100 bytes"), "%s", err.msg);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert_eq(store_read(file, 101, &b, &err), 0, "%s", err.msg);
	cr_assert_eq(b.len, 101);
	buf_free(&b);
	free(file);
}

Test(store, read_empty_and_large_files)
{
	char *file = at("f");
	struct buf b = BUF_INIT;
	okc_err err;
	char *big = xmalloc(100001);

	write_file(file, "", 0600);
	cr_assert_eq(store_read(file, 100, &b, &err), 0);
	cr_assert_not_null(b.data);
	cr_assert_eq(b.len, 0);
	memset(big, 'z', 100000);
	big[100000] = '\0';
	write_file(file, big, 0600);
	cr_assert_eq(store_read(file, 1 << 20, &b, &err), 0, "%s", err.msg);
	cr_assert_eq(b.len, 100000);
	cr_assert_str_eq(b.data, big);
	buf_free(&b);
	free(big);
	free(file);
}

Test(store, write_atomic_creates_0600_and_replaces)
{
	char *file = at("tokens.json");
	struct buf b = BUF_INIT;
	okc_err err;
	char *names;

	umask(0);
	cr_assert_eq(store_write_atomic(tmpdir, "tokens.json", "first", 5, &err), 0, "%s", err.msg);
	cr_assert_eq(mode_of(file), 0600);
	cr_assert_eq(store_write_atomic(tmpdir, "tokens.json", "second!", 7, &err), 0, "%s",
	             err.msg);
	cr_assert_eq(mode_of(file), 0600);
	cr_assert_eq(store_read(file, 100, &b, &err), 0, "%s", err.msg);
	cr_assert_str_eq(b.data, "second!");
	names = listing(tmpdir);
	cr_assert_str_eq(names, "tokens.json", "temporary files left: %s", names);
	free(names);
	buf_free(&b);
	free(file);
}

Test(store, write_atomic_replaces_a_loose_file_with_a_safe_one)
{
	char *file = at("tokens.json");
	okc_err err;

	write_file(file, "old", 0644);
	cr_assert_eq(store_write_atomic(tmpdir, "tokens.json", "new", 3, &err), 0, "%s", err.msg);
	cr_assert_eq(mode_of(file), 0600);
	free(file);
}

Test(store, write_atomic_refuses_unsafe_dir)
{
	char *real = at("real"), *link = at("link"), *inside = at("real/f");
	okc_err err;

	cr_assert_eq(mkdir(real, 0700), 0);
	cr_assert_eq(symlink(real, link), 0);
	cr_assert_eq(store_write_atomic(link, "f", "x", 1, &err), -1);
	cr_assert(strstr(err.msg, "symbolic link"), "%s", err.msg);
	cr_assert_eq(chmod(real, 0755), 0);
	cr_assert_eq(store_write_atomic(real, "f", "x", 1, &err), -1);
	cr_assert(strstr(err.hint, "chmod 700"), "%s", err.hint);
	cr_assert_eq(access(inside, F_OK), -1);
	free(real), free(link), free(inside);
}

Test(store, failed_rename_leaves_no_temp_file)
{
	char *target = at("tokens.json"), *inner = at("tokens.json/keep");
	okc_err err;
	char *names;

	/* rename(2) cannot put a file over a non-empty directory: the last step fails. */
	cr_assert_eq(mkdir(target, 0700), 0);
	write_file(inner, "x", 0600);
	cr_assert_eq(store_write_atomic(tmpdir, "tokens.json", "new", 3, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert(strstr(err.msg, "cannot replace"), "%s", err.msg);
	names = listing(tmpdir);
	cr_assert_str_eq(names, "tokens.json", "temporary files left: %s", names);
	cr_assert_eq(access(inner, F_OK), 0);
	free(names), free(target), free(inner);
}

/* A write that fails halfway (the file size limit, as a full disk would) leaves the old
 * file whole and no temporary file. In a child: the limit is per process. */
Test(store, failed_write_keeps_old_file)
{
	char *file = at("tokens.json");
	struct buf b = BUF_INIT;
	okc_err err;
	pid_t pid;
	int status;
	char *names;

	write_file(file, "old content", 0600);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct rlimit rl = {4096, 4096};
		size_t n = 100000;
		char *big = calloc(1, n);

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		if (store_write_atomic(tmpdir, "tokens.json", big, n, &err) != -1)
			_exit(2);
		_exit(strstr(err.msg, "cannot write") ? 0 : 3);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	cr_assert_eq(store_read(file, 100, &b, &err), 0, "%s", err.msg);
	cr_assert_str_eq(b.data, "old content");
	names = listing(tmpdir);
	cr_assert_str_eq(names, "tokens.json", "temporary files left: %s", names);
	free(names);
	buf_free(&b);
	free(file);
}

Test(store, write_atomic_missing_dir)
{
	char *dir = at("missing");
	okc_err err;

	cr_assert_eq(store_write_atomic(dir, "f", "x", 1, &err), -1);
	cr_assert(strstr(err.msg, "does not exist"), "%s", err.msg);
	free(dir);
}

Test(store, remove_and_quarantine)
{
	char *file = at("tokens.json"), *corrupt = at("tokens.json.corrupt");
	struct buf b = BUF_INIT;
	okc_err err;

	write_file(file, "bad1", 0600);
	cr_assert_eq(store_quarantine(tmpdir, "tokens.json", &err), 0, "%s", err.msg);
	cr_assert_eq(access(file, F_OK), -1);
	write_file(file, "bad2", 0600);
	cr_assert_eq(store_quarantine(tmpdir, "tokens.json", &err), 0, "%s", err.msg);
	cr_assert_eq(store_read(corrupt, 100, &b, &err), 0, "%s", err.msg);
	cr_assert_str_eq(b.data, "bad2", "the newer corrupt file replaces the older");
	cr_assert_eq(store_quarantine(tmpdir, "tokens.json", &err), OKC_NOENT);

	write_file(file, "x", 0600);
	cr_assert_eq(store_remove(tmpdir, "tokens.json", &err), 0, "%s", err.msg);
	cr_assert_eq(access(file, F_OK), -1);
	cr_assert_eq(store_remove(tmpdir, "tokens.json", &err), OKC_NOENT);
	buf_free(&b);
	free(file), free(corrupt);
}

/* ---- lock.c ---- */

TestSuite(lock, .init = setup, .fini = teardown);

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Waits up to ms for one byte on fd; returns it, or -1 when none came. */
static int read_byte(int fd, int ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	char c;

	if (poll(&p, 1, ms) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return c;
}

Test(lock, second_process_waits_for_release)
{
	struct lock l = LOCK_INIT;
	okc_err err;
	int to_child[2], from_child[2];
	struct timespec t0;
	pid_t pid;
	int status;
	char *lockfile = at(".lock");

	cr_assert_eq(lock_acquire(&l, tmpdir, 0, &err), 0, "%s", err.msg);
	cr_assert_geq(l.fd, 0);
	cr_assert_eq(mode_of(lockfile), 0600);
	cr_assert_eq(pipe(to_child), 0);
	cr_assert_eq(pipe(from_child), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct lock cl = LOCK_INIT;
		char c = 'w';

		close(from_child[0]);
		close(to_child[1]);
		/* Our copy of the parent's descriptor would keep its lock alive. */
		close(l.fd);
		/* Should the parent fail an assertion and exit, we must not outlive it. */
		alarm(30);
		if (write(from_child[1], &c, 1) != 1)
			_exit(2);
		if (lock_acquire(&cl, tmpdir, 10000, &err) < 0)
			_exit(3);
		c = 'L';
		if (write(from_child[1], &c, 1) != 1)
			_exit(4);
		/* Hold it until the parent says so, then release. */
		if (read(to_child[0], &c, 1) != 1)
			_exit(5);
		lock_release(&cl);
		_exit(0);
	}
	close(from_child[1]);
	close(to_child[0]);
	cr_assert_eq(read_byte(from_child[0], 10000), 'w', "child did not start");
	/* The child is now trying to lock: it must not get it while we hold it. */
	cr_assert_eq(read_byte(from_child[0], 300), -1, "child took a lock we hold");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	lock_release(&l);
	cr_assert_eq(l.fd, -1);
	cr_assert_eq(read_byte(from_child[0], 10000), 'L', "child never got the lock");
	cr_assert_lt(ms_since(&t0), 1000, "a released lock must be taken promptly");
	/* Now the child holds it: we must wait or time out. */
	cr_assert_eq(lock_acquire(&l, tmpdir, 100, &err), -1);
	cr_assert(strstr(err.msg, "held the lock"), "%s", err.msg);
	cr_assert_eq(write(to_child[1], "x", 1), 1);
	cr_assert_eq(lock_acquire(&l, tmpdir, 10000, &err), 0, "%s", err.msg);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	lock_release(&l);
	lock_release(&l); /* a no-op the second time */
	free(lockfile);
}

Test(lock, timeout_honoured)
{
	struct lock a = LOCK_INIT, b = LOCK_INIT;
	struct timespec t0;
	okc_err err;
	long took;

	/* flock belongs to the open file description: a second open in this process
	 * conflicts just as another process would. */
	cr_assert_eq(lock_acquire(&a, tmpdir, 0, &err), 0, "%s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(lock_acquire(&b, tmpdir, 250, &err), -1);
	took = ms_since(&t0);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert(strstr(err.msg, "another oktacred process"), "%s", err.msg);
	cr_assert_eq(b.fd, -1);
	cr_assert_geq(took, 240, "gave up after %ld ms", took);
	cr_assert_lt(took, 2000, "took %ld ms", took);
	lock_release(&a);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(lock_acquire(&b, tmpdir, 250, &err), 0, "%s", err.msg);
	cr_assert_lt(ms_since(&t0), 100);
	lock_release(&b);
}

Test(lock, sigint_gives_130)
{
	struct lock a = LOCK_INIT, b = LOCK_INIT;
	okc_err err;

	cr_assert_eq(lock_acquire(&a, tmpdir, 0, &err), 0, "%s", err.msg);
	sig_install();
	raise(SIGINT);
	cr_assert_eq(lock_acquire(&b, tmpdir, 60000, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_INTERRUPTED);
	cr_assert(strstr(err.msg, "interrupted while waiting for the lock"), "%s", err.msg);
	lock_release(&a);
}

Test(lock, refuses_unsafe_lock_file)
{
	struct lock l = LOCK_INIT;
	char *lockfile = at(".lock"), *real = at("real");
	okc_err err;

	write_file(real, "", 0600);
	cr_assert_eq(symlink(real, lockfile), 0);
	cr_assert_eq(lock_acquire(&l, tmpdir, 100, &err), -1);
	cr_assert(strstr(err.msg, "symbolic link"), "%s", err.msg);
	cr_assert_eq(l.fd, -1);
	cr_assert_eq(unlink(lockfile), 0);
	write_file(lockfile, "", 0644);
	cr_assert_eq(lock_acquire(&l, tmpdir, 100, &err), -1);
	cr_assert(strstr(err.hint, "chmod 600"), "%s", err.hint);
	free(lockfile), free(real);
}

/* 32 processes each do a read-modify-write of one counter under the lock, with a pause
 * inside to widen any race: no update may be lost, and the handoffs must be quick. */
Test(lock, thirty_two_processes_serialise)
{
	enum { NPROC = 32 };
	char *counter = at("counter");
	pid_t pids[NPROC];
	struct buf b = BUF_INIT;
	okc_err err;
	int i;

	write_file(counter, "0", 0600);
	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0) {
			struct lock l = LOCK_INIT;
			struct timespec pause = {0, 2000000};
			char text[32];
			long n;
			int fd, len;

			alarm(60);
			if (lock_acquire(&l, tmpdir, 30000, &err) < 0)
				_exit(2);
			fd = open(counter, O_RDWR);
			len = (int)read(fd, text, sizeof(text) - 1);
			if (fd < 0 || len <= 0)
				_exit(3);
			text[len] = '\0';
			n = strtol(text, NULL, 10);
			nanosleep(&pause, NULL);
			len = snprintf(text, sizeof(text), "%ld", n + 1);
			if (pwrite(fd, text, (size_t)len, 0) != len)
				_exit(4);
			close(fd);
			lock_release(&l);
			_exit(0);
		}
	}
	for (i = 0; i < NPROC; i++) {
		int status;

		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: %d", i, status);
	}
	cr_assert_eq(store_read(counter, 100, &b, &err), 0, "%s", err.msg);
	cr_assert_str_eq(b.data, "32");
	buf_free(&b);
	free(counter);
}

Test(store, check_room_leaves_nothing_behind)
{
	okc_err err;
	char *before = listing(tmpdir), *after;

	cr_assert_eq(store_check_room(tmpdir, 64 * 1024, &err), 0, "%s", err.msg);
	after = listing(tmpdir);
	cr_assert_str_eq(after, before, "the probe file is gone");
	free(before);
	free(after);
}
