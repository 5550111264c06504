/*
 * identify.h - recognising scheme fds that arrived without us: inherited
 * across exec (identify_all, at start-up) or received over SCM_RIGHTS
 * (identify_fds, all of one message at once).
 */
#ifndef PRELOAD_IDENTIFY_H
#define PRELOAD_IDENTIFY_H

void identify_fds(const int *fds, int n);
void identify_all(void);

#endif
