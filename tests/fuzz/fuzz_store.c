// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the record-file reader (store.h) on any file, read item by item to its
 * end. The input is a raw file or block payloads the fuzzer frames into a well-formed file
 * (store_frame.h). Checks the reader's contract: every string it hands out is readable, a
 * reader stops for a reason, and the spans it returns carry valid kinds and statuses.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_util.h"
#include "store_frame.h"

/* Items read per input at most: a file can hold no more than its bytes allow anyway. */
#define MAX_ITEMS 100000
#define ERR_BYTES 512

struct out_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

static void out_put(struct out_buf *o, const void *p, size_t len)
{
	if (o->len + len > o->cap) {
		o->cap = (o->len + len) * 2;
		o->data = realloc(o->data, o->cap);
		if (!o->data)
			abort();
	}
	memcpy(o->data + o->len, p, len);
	o->len += len;
}

/* A valid header, then one well-formed block per framed payload of DATA. */
static void frame(const uint8_t *data, size_t size, struct out_buf *o)
{
	uint8_t hdr[HDR_SIZE] = {0}, bhdr[BLOCK_HDR_SIZE];

	memcpy(hdr, store_magic, sizeof(store_magic));
	le32_put(hdr + HDR_OFF_VERSION, ZT_STORE_VERSION);
	le32_put(hdr + HDR_OFF_SIZE, HDR_SIZE);
	memcpy(hdr + HDR_OFF_HOST, "fuzz", 4);
	le32_put(hdr + HDR_SIZE - 4, (uint32_t)crc32(0, hdr, HDR_SIZE - 4));
	out_put(o, hdr, sizeof(hdr));
	while (size >= ZT_FRAME_LEN_BYTES) {
		size_t len = le16_get(data);
		uLongf clen;
		uint8_t *z;

		data += ZT_FRAME_LEN_BYTES;
		size -= ZT_FRAME_LEN_BYTES;
		if (len > size)
			len = size;
		/* an empty payload is not a block the writer makes: skip it */
		if (len) {
			clen = compressBound(len);
			z = malloc(clen);
			if (!z || compress2(z, &clen, data, len, Z_BEST_SPEED) != Z_OK)
				abort();
			le32_put(bhdr, BLOCK_MAGIC);
			le32_put(bhdr + 4, (uint32_t)clen);
			le32_put(bhdr + 8, (uint32_t)len);
			le32_put(bhdr + 12, (uint32_t)crc32(0, z, clen));
			out_put(o, bhdr, sizeof(bhdr));
			out_put(o, z, clen);
			free(z);
		}
		data += len;
		size -= len;
	}
}

static void touch(const char *s)
{
	if (s)
		(void)strlen(s);
}

static void check_item(const struct zt_store_item *it)
{
	switch (it->type) {
	case ZT_STORE_ITEM_SPAN:
		ZT_FUZZ_CHECK(zt_span_kind_name(it->span.kind) != NULL);
		ZT_FUZZ_CHECK(zt_span_status_name(it->span.status) != NULL);
		ZT_FUZZ_CHECK(memchr(it->span.comm, '\0', sizeof(it->span.comm)) != NULL);
		touch(it->span.name);
		touch(it->span.probe);
		touch(it->span.binary);
		break;
	case ZT_STORE_ITEM_PROCESS:
		touch(it->process.comm);
		touch(it->process.exe);
		touch(it->process.cmdline);
		touch(it->process.service_name);
		touch(it->process.container_id);
		touch(it->process.resource_attrs);
		break;
	case ZT_STORE_ITEM_METRICS:
		ZT_FUZZ_CHECK(it->metrics.count == 0 || it->metrics.samples);
		for (size_t i = 0; i < it->metrics.count; i++) {
			touch(it->metrics.samples[i].name);
			touch(it->metrics.samples[i].labels);
		}
		break;
	default:
		ZT_FUZZ_CHECK(!"unknown item type");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct zt_fuzz_file file;
	struct out_buf framed = {0};
	struct zt_store_reader *r = NULL;
	const struct zt_store_process *procs;
	struct zt_store_item item;
	enum zt_store_stop stop;
	char err[ERR_BYTES] = "";
	const char *path, *reason = NULL;
	uint64_t offset = 0, items = 0;
	size_t nprocs;
	int ret;

	if (size == 0)
		return 0;
	if (data[0] & ZT_FRAME_BLOCKS) {
		frame(data + 1, size - 1, &framed);
		path = zt_fuzz_file_set(&file, framed.data, framed.len);
	} else {
		path = zt_fuzz_file_set(&file, data + 1, size - 1);
	}
	ret = zt_store_open(path, &r, err, sizeof(err));
	if (ret) {
		ZT_FUZZ_CHECK(r == NULL && err[0] != '\0');
		goto out;
	}
	ZT_FUZZ_CHECK(zt_store_get_header(r) != NULL);
	touch(zt_store_get_header(r)->hostname);
	if (data[0] & ZT_FRAME_SPANS_ONLY) {
		while ((ret = zt_store_next_span(r, &item.span)) > 0 && items < MAX_ITEMS) {
			ZT_FUZZ_CHECK(ret == 1);
			item.type = ZT_STORE_ITEM_SPAN;
			check_item(&item);
			items++;
		}
	} else {
		while ((ret = zt_store_next(r, &item)) > 0 && items < MAX_ITEMS) {
			ZT_FUZZ_CHECK(ret == (int)item.type);
			check_item(&item);
			items++;
		}
	}
	ZT_FUZZ_CHECK(ret >= 0 || ret == -ENOMEM || ret == -EIO);
	if (ret == 0) {
		stop = zt_store_stopped_at(r, &offset, &reason);
		ZT_FUZZ_CHECK(stop == ZT_STORE_END || stop == ZT_STORE_TRUNCATED ||
			      stop == ZT_STORE_CORRUPT);
		ZT_FUZZ_CHECK(reason && reason[0]);
		/* a clean end and a cut-short file stop within the file; corruption may not */
		if (stop != ZT_STORE_CORRUPT)
			ZT_FUZZ_CHECK(offset <=
				      (data[0] & ZT_FRAME_BLOCKS ? framed.len : size - 1));
		/* reading on at the end stays at the end */
		ZT_FUZZ_CHECK(zt_store_next(r, &item) == 0);
		ZT_FUZZ_CHECK(zt_store_stopped_at(r, &offset, &reason) == stop);
	}
	procs = zt_store_processes(r, &nprocs);
	for (size_t i = 0; i < nprocs; i++)
		touch(procs[i].exe);
	(void)zt_store_blocks_read(r);
	zt_store_reader_close(r);
out:
	free(framed.data);
	return 0;
}
