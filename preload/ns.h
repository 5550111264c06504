/*
 * ns.h - getns(), setrens() and mkns() are exported (scheme.h); these
 * keep a fork from copying a setrens() half done.
 */
#ifndef PRELOAD_NS_H
#define PRELOAD_NS_H

void ns_atfork_prepare(void);
void ns_atfork_parent(void);
void ns_atfork_child(void);

#endif
