// SPDX-License-Identifier: GPL-2.0-or-later
/* oci_config_validate: a minimal good config passes; each semantic error is
 * caught with a message naming the field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/error.h"
#include "base/fd.h"
#include "oci/config.h"
#include "tap.h"

#define V "\"ociVersion\": \"1.0.2\", "
#define ROOT "\"root\": {\"path\": \"rootfs\"}, "
#define PROC "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}"
#define GOOD V ROOT PROC

static const struct {
	const char *json, *want;
} cases[] = {
	{ "{" ROOT PROC "}", "config.json: ociVersion: missing" },
	{ "{\"ociVersion\": \"2.0.0\", " ROOT PROC "}", "config.json: ociVersion: version \"2.0.0\" is not supported" },
	{ "{" V PROC "}", "config.json: root.path: missing" },
	{ "{" V "\"root\": {\"path\": \"nope\"}, " PROC "}", "rootfs (%s/nope) does not exist" },
	{ "{" V "\"root\": {\"path\": \"file\"}, " PROC "}", "rootfs (%s/file) is not a directory" },
	{ "{" V ROOT "\"hostname\": \"x\"}", "config.json: process: missing" },
	{ "{" V ROOT "\"process\": {\"args\": [], \"cwd\": \"/\"}}", "config.json: process.args: must not be empty" },
	{ "{" V ROOT "\"process\": {\"cwd\": \"/\"}}", "config.json: process.args: must not be empty" },
	{ "{" V ROOT "\"process\": {\"args\": [\"sh\"]}}", "config.json: process.cwd: missing" },
	{ "{" V ROOT "\"process\": {\"args\": [\"sh\"], \"cwd\": \"home\"}}",
	  "config.json: process.cwd: \"home\" is not an absolute path" },
	{ "{" V ROOT "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"env\": [\"A=1\", \"B\"]}}",
	  "config.json: process.env[1]: \"B\" is not KEY=VALUE" },
	{ "{" GOOD ", \"mounts\": [{\"destination\": \"/proc\"}, {\"destination\": \"sys\"}]}",
	  "config.json: mounts[1].destination: \"sys\" is not an absolute path" },
	{ "{" GOOD ", \"hooks\": {\"createRuntime\": [{\"path\": \"hook.sh\"}]}}",
	  "config.json: hooks.createRuntime[0].path: \"hook.sh\" is not an absolute path" },
	{ "{" GOOD ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"pid\"}]}}",
	  "config.json: linux.namespaces[2].type: duplicate namespace \"pid\"" },
	{ "{" GOOD ", \"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"run/netns/x\"}]}}",
	  "config.json: linux.namespaces[0].path: \"run/netns/x\" is not an absolute path" },
	{ "{" GOOD ", \"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]}}",
	  "config.json: linux.uidMappings: id mappings need a user namespace" },
	{ "{" GOOD ", \"linux\": {\"namespaces\": [{\"type\": \"user\"}]}}",
	  "config.json: linux.uidMappings: a new user namespace needs uid and gid mappings" },
	{ "{" GOOD ", \"hostname\": \"h\", \"linux\": {\"namespaces\": [{\"type\": \"mount\"}]}}",
	  "config.json: hostname: setting it needs a uts namespace" },
	{ "{" GOOD ", \"linux\": {\"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}}}",
	  "config.json: linux.sysctl.net.ipv4.ip_forward: not allowed in the host's network namespace" },
	{ "{" GOOD ", \"linux\": {\"rootfsPropagation\": \"sideways\"}}",
	  "config.json: linux.rootfsPropagation: unknown value \"sideways\"" },
	{ "{" GOOD ", \"linux\": {\"maskedPaths\": [\"/proc/kcore\", \"proc/keys\"]}}",
	  "config.json: linux.maskedPaths[1]: \"proc/keys\" is not an absolute path" },
	{ "{" GOOD ", \"linux\": {\"timeOffsets\": {\"boottime\": {\"secs\": 5}}}}",
	  "config.json: linux.timeOffsets: needs a new time namespace" },
	{ "{" GOOD ", \"linux\": {\"devices\": [{\"type\": \"c\", \"path\": \"dev/null\", \"major\": 1, \"minor\": 3}]}}",
	  "config.json: linux.devices[0].path: \"dev/null\" is not an absolute path" },
};

static char bundle[64];

static int validate(const char *json)
{
	struct oci_config *c = NULL;
	int r = oci_config_parse(json, bundle, &c);

	if (r < 0) {
		printf("# parse failed: %s\n", err_msg());
		return 1; /* not a validation failure: the case is broken */
	}
	err_clear();
	r = oci_config_validate(c);
	oci_config_free(c);
	return r;
}

int main(void)
{
	_cleanup_free_ char *rootfs = NULL, *file = NULL;

	snprintf(bundle, sizeof(bundle), "/tmp/test-oci-validate.XXXXXX");
	if (!ok(mkdtemp(bundle) != NULL, "mkdtemp"))
		return done_testing();
	asprintf(&rootfs, "%s/rootfs", bundle);
	asprintf(&file, "%s/file", bundle);
	mkdir(rootfs, 0755);
	write_file(file, "x", 1, 0644);

	is_int(validate("{" GOOD "}"), 0, "minimal config validates (%s)", err_msg());
	is_int(validate("{" GOOD ", \"hostname\": \"h\", \"linux\": {\"namespaces\": [{\"type\": \"uts\"},"
			" {\"type\": \"user\"}, {\"type\": \"network\"}, {\"type\": \"time\"}],"
			" \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
			" \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
			" \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},"
			" \"timeOffsets\": {\"monotonic\": {\"secs\": 1}}}}"),
	       0, "user ns with mappings, uts with hostname, netns with net sysctl (%s)", err_msg());
	is_int(validate("{" GOOD ", \"linux\": {\"namespaces\": [{\"type\": \"user\", \"path\": \"/proc/1/ns/user\"}]}}"),
	       0, "joining a user ns needs no mappings (%s)", err_msg());

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[512];
		snprintf(want, sizeof(want), cases[i].want, bundle);
		int r = validate(cases[i].json);
		ok(r < 0, "case %zu is rejected", i);
		if (!ok(strstr(err_msg(), want) != NULL, "message: %s", want))
			printf("#   got '%s'\n", err_msg());
	}

	unlink(file);
	rmdir(rootfs);
	rmdir(bundle);
	return done_testing();
}
