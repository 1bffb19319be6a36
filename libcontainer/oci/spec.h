/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Documents the CLI prints as they are: `skua spec` and `skua features`. */
#ifndef SKUA_OCI_SPEC_H
#define SKUA_OCI_SPEC_H

#define OCI_SPEC_DEFAULT_VERSION "1.0.2-dev"

/* The default config.json (runc's `spec` template, hostname "skua"),
 * tab-indented, without a trailing newline. */
int oci_spec_default(char **ret);
/* The runtime-spec features document, two-space indented. */
int oci_features_json(char **ret);

#endif
