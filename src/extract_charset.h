#ifndef TRAWL_EXTRACT_CHARSET_H
#define TRAWL_EXTRACT_CHARSET_H

/*
 * glibc's iconv loads a shared module (gconv) per charset on first use.
 * Inside the sandbox there is no /usr/lib to load it from, so every charset
 * but UTF-8 and ASCII would be "unknown". Calling this once, before the
 * zygote and the explorers are forked, loads the modules of the charsets mail
 * and documents use and keeps one conversion of each open, so glibc never
 * unloads them: the children inherit them loaded.
 */

/** Loads the conversions to UTF-8 (idempotent). Returns how many charsets are available. */
int extract_charsets_preload(void);

#endif
