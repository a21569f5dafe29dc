/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The request checks of validate.h without a hint, out of line: what the
 * unit tests and the fuzzer call. The data path uses the inline form.
 */
#include <stdint.h>

#include "cdna_abi.h"
#include "claims.h"
#include "regions.h"
#include "validate.h"

uint16_t
cdna_validate_req(const struct cdna_region_table *rt,
		  const struct cdna_req *req, int dir,
		  struct cdna_dma_ref *out)
{
	return cdna_validate_req_hinted(rt, req, dir, out, NULL);
}

