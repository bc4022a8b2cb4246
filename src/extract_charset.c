/*
 * Preloaded iconv modules for the sandboxed extractors (see the header). The
 * list is what real mail and documents declare: the ISO-8859 and Windows code
 * pages, the Cyrillic, Chinese, Japanese, Korean, Thai and Vietnamese
 * encodings, UTF-16/32 and UTF-7, and the old DOS and Mac code pages.
 */
#include "extract_charset.h"

#include <iconv.h>
#include <stddef.h>

static const char *const charsets[] = {
    "ISO-8859-1",   "ISO-8859-2",   "ISO-8859-3",   "ISO-8859-4",    "ISO-8859-5",
    "ISO-8859-6",   "ISO-8859-7",   "ISO-8859-8",   "ISO-8859-9",    "ISO-8859-10",
    "ISO-8859-11",  "ISO-8859-13",  "ISO-8859-14",  "ISO-8859-15",   "ISO-8859-16",
    "WINDOWS-1250", "WINDOWS-1251", "WINDOWS-1252", "WINDOWS-1253",  "WINDOWS-1254",
    "WINDOWS-1255", "WINDOWS-1256", "WINDOWS-1257", "WINDOWS-1258",  "KOI8-R",
    "KOI8-U",       "CP866",        "CP437",        "CP850",         "CP852",
    "MACINTOSH",    "BIG5",         "BIG5-HKSCS",   "GB2312",        "GBK",
    "GB18030",      "EUC-CN",       "HZ",           "EUC-TW",        "EUC-JP",
    "SHIFT_JIS",    "CP932",        "ISO-2022-JP",  "ISO-2022-JP-2", "EUC-KR",
    "CP949",        "ISO-2022-KR",  "JOHAB",        "TIS-620",       "CP874",
    "VISCII",       "TCVN",         "UTF-16",       "UTF-16LE",      "UTF-16BE",
    "UTF-32",       "UTF-32LE",     "UTF-32BE",     "UTF-7",         "ARMSCII-8",
    "GEORGIAN-PS",  "KOI8-T",       "PT154",        "CP1125",        "IBM037",
    "IBM500",
};

static iconv_t held[sizeof charsets / sizeof charsets[0]];
static int loaded = -1;

int extract_charsets_preload(void)
{
    if (loaded >= 0)
        return loaded;
    loaded = 0;
    for (size_t i = 0; i < sizeof charsets / sizeof charsets[0]; i++) {
        held[i] = iconv_open("UTF-8", charsets[i]);
        if (held[i] != (iconv_t)-1)
            loaded++;
    }
    return loaded;
}
