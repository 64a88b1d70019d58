/* Functions that make buffer overflows easy; use snprintf, memcpy with an
 * explicit length, or strtok_r instead. Included last by every .c file via
 * the compiler's -include flag. */
#ifndef HUB_BANNED_H
#define HUB_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)

#endif
