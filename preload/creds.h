/*
 * creds.h - this process's pid and effective ids, as sent with requests.
 *
 * The kernel checks every SCM_CREDENTIALS we send (the pid must be ours,
 * the ids among our real, effective and saved ones), so a stale cache can
 * only make a send fail with EPERM, after which creds_refresh() fixes it.
 */
#ifndef PRELOAD_CREDS_H
#define PRELOAD_CREDS_H

#include "../proto/wire/wire.h"

void creds_get(struct wire_creds *c);
void creds_refresh(void);

#endif
