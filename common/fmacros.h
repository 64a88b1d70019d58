/* Feature macros, set in one place before any system header. */
#ifndef HUB_FMACROS_H
#define HUB_FMACROS_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#endif
