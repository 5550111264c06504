/*
 * log.h - one line per event on stderr, prefixed with the daemon's name.
 */
#ifndef BROKER_LOG_H
#define BROKER_LOG_H

void log_init(const char *name, int verbose);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
