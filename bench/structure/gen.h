/* A generated labelled corpus: topics with their own vocabularies, words
 * shared by all topics, stop words and inflections. Deterministic (LCG). */
#ifndef TRAWL_BENCH_GEN_H
#define TRAWL_BENCH_GEN_H

#include "buf.h"

#include <stdint.h>
#include <stdio.h>

static const char *const gen_topics[][12] = {
    {"payroll", "salary", "payslip", "overtime", "pension", "deduction", "employee", "wage",
     "bonus", "tax", "contract", "holiday"},
    {"server", "cluster", "kubernetes", "deployment", "container", "latency", "outage", "database",
     "backup", "network", "firewall", "upgrade"},
    {"invoice", "supplier", "payment", "purchase", "order", "ledger", "account", "refund", "credit",
     "receipt", "budget", "audit"},
    {"customer", "complaint", "ticket", "support", "warranty", "delivery", "return", "product",
     "feedback", "escalation", "satisfaction", "survey"},
    {"lawyer", "lawsuit", "court", "clause", "agreement", "liability", "compliance", "regulation",
     "dispute", "settlement", "trademark", "patent"},
    {"recruiting", "candidate", "interview", "offer", "onboarding", "training", "mentor",
     "promotion", "appraisal", "resignation", "vacancy", "hiring"},
};
static const char *const gen_shared[] = {"meeting",  "please", "team",   "update", "week",
                                         "attached", "review", "report", "thanks", "monday",
                                         "question", "plan",   "status", "note",   "today"};
static const char *const gen_stop[] = {"the", "and", "of",   "to",   "we",
                                       "is",  "for", "this", "with", "on"};
static const char *const gen_suffix[] = {"", "s", "ing", "ed"};

static uint32_t gen_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*s >> 33);
}

/* Document i of a corpus with ntopics topics: its label is returned; noise is
 * the percentage of words from the shared pool. */
static int gen_doc(size_t i, int ntopics, int noise, int words, struct buf *out)
{
    uint64_t s = 0x9e3779b97f4a7c15ULL ^ (uint64_t)i * 0x100000001b3ULL;
    int topic = (int)(i % (size_t)ntopics), w;

    gen_rand(&s);
    for (w = 0; w < words; w++) {
        uint32_t r = gen_rand(&s) % 100;
        const char *word;
        if (r < 25)
            word = gen_stop[gen_rand(&s) % 10];
        else if (r < 25 + (uint32_t)noise)
            word = gen_shared[gen_rand(&s) % 15];
        else if (r < 25 + (uint32_t)noise + 5) /* a word from another topic */
            word = gen_topics[gen_rand(&s) % (uint32_t)ntopics][gen_rand(&s) % 12];
        else
            word = gen_topics[topic][gen_rand(&s) % 12];
        buf_addf(out, "%s%s%s", word, gen_suffix[gen_rand(&s) % 4], w % 12 == 11 ? ". " : " ");
    }
    return topic;
}

#endif
