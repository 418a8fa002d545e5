/* SPDX-License-Identifier: MIT */
/*
 * The framed input of the record-file fuzzer, shared by the fuzzer and its seed generator.
 *
 * Block CRCs and zlib compression stop almost every mutation of a raw record file at the
 * block level, so the entry decoders would never see mutated bytes. The first input byte
 * therefore chooses what the rest is:
 *   even  the record file itself, byte for byte;
 *   odd   uncompressed block payloads, each a little-endian u16 length and that many bytes
 *         (the last one takes whatever is left), which the fuzzer frames into a well-formed
 *         file (valid header, compressed blocks with correct lengths and CRCs) before reading.
 * The layout comes from user/store_format.h, the one description of it the writer uses too.
 */
#ifndef ZT_FUZZ_STORE_FRAME_H
#define ZT_FUZZ_STORE_FRAME_H

#include "store_format.h"

#define ZT_FRAME_RAW	    0
#define ZT_FRAME_BLOCKS	    (1 << 0)
#define ZT_FRAME_SPANS_ONLY (1 << 1)
/* Bytes of a payload length in the framed form. */
#define ZT_FRAME_LEN_BYTES 2

#endif
