/* SPDX-License-Identifier: MIT */
#ifndef ZTRACE_VERSION_H
#define ZTRACE_VERSION_H

#define ZTRACE_VERSION "0.1.0"

#endif
