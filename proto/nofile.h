/*
 * nofile.h - as many fds as the hard limit allows (at most 2^20).
 *
 * A provider holds an fd per open file and channel, the broker one per
 * connection, and serve's caps are shares of the soft limit it finds
 * (serve.h): both take what they may before serving.
 */
#ifndef PROTO_NOFILE_H
#define PROTO_NOFILE_H

void nofile_raise(void);

#endif
