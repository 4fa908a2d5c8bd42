/*
 * hwg_log.c — see hwg_log.h.
 */
#include "hwg_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hwg_text.h"
#include "hwg_time.h"

static const char *log_progname = "hwgw";
static enum hwg_log_level log_min = HWG_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
hwg_log_init(const char *progname, enum hwg_log_level min_level)
{
	log_progname = progname;
	log_min = min_level;
}

int
hwg_log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

void
hwg_log(enum hwg_log_level level, const char *event, const char *fmt, ...)
{
	char line[1024], safe[1024];
	va_list ap;
	int n;

	if (level < log_min)
		return;
	n = snprintf(line, sizeof(line), "%s[%ld]: level=%s event=%s ", log_progname,
	             (long)getpid(), level_names[level], event);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* one line of valid UTF-8, whatever the values held */
	hwg_text_escape(safe, sizeof(safe), line, HWG_TEXT_CONTROLS);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s\n", safe);
	pthread_mutex_unlock(&log_lock);
}

int
hwg_log_limit_pass(struct hwg_log_limit *l, unsigned long *skipped)
{
	int64_t now = hwg_mono_ms();
	int pass;

	pthread_mutex_lock(&log_lock);
	pass = l->last_ms == 0 || now - l->last_ms >= 1000;
	if (pass) {
		*skipped = l->skipped;
		l->skipped = 0;
		l->last_ms = now;
	} else {
		l->skipped++;
	}
	pthread_mutex_unlock(&log_lock);
	return pass;
}
