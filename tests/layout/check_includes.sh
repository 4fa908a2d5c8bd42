#!/bin/sh
# tests/layout/check_includes.sh ROOT — the include rules of the tree
# (gateway/README.md, "Layout"): a file's folder says which process runs
# it and what it may touch, so a folder may include only the headers of
# the folders it may use.  Prints one line per include that breaks a rule
# and exits 1 if there is any.  Our headers are found by name, as the
# build finds them (every folder's headers have distinct names); system
# headers are matched as <name.h>.
set -eu
root=${1:?usage: check_includes.sh ROOT}
cd "$root"
dirs="common crypto drivers gateway client hw-sim registry counter"

# FOLDER PATTERN WHY: no file under FOLDER may include a header whose
# folder (or <system name>) matches PATTERN, an extended regular expression.
rules='gateway/shared ^(gateway/(net|state|palm|ops|priv|keyholder)|drivers)(/|$)|^<(sqlite3|winscard|libusb|microhttpd)\.h>$|^<libusb-1\.0/ shared code is linked by every process and touches nothing
gateway/net ^(gateway/(state|palm|ops|priv|keyholder)|drivers)(/|$)|^<(sqlite3|winscard|libusb)\.h>$|^<libusb-1\.0/|^<p11-kit/ the net process reads client bytes and holds no store, device or key
gateway/state ^(gateway/(net|palm|ops|priv|keyholder)|drivers)(/|$)|^<microhttpd\.h>$ the store knows no transport, device or process
gateway/ops ^gateway/(net|priv)(/|$)|^<microhttpd\.h>$ handlers get their services in their context, never the privileged process internals or a transport
gateway/palm ^gateway/(net|ops|priv)(/|$)|^<microhttpd\.h>$ biometrics know no transport or process
gateway/keyholder ^(gateway/(net|state|ops|priv)|drivers/(card|vein))(/|$)|^<(sqlite3|microhttpd|winscard)\.h>$ the keyholder holds the keys (and seals templates in their format, palm/) and nothing else
drivers ^gateway(/|$)|^<microhttpd\.h>$ drivers never know the gateway
common ^(gateway|drivers|crypto|client)(/|$) common code is below everything
crypto ^(gateway|drivers|client)(/|$) crypto is below the gateway and the drivers
registry ^(client|hw-sim)(/|$)|^<(winscard|libusb|microhttpd)\.h>$|^<libusb-1\.0/ the register knows no device, transport or client
counter ^(gateway|drivers|hw-sim|crypto)(/|$)|^<(sqlite3|winscard|libusb|microhttpd|libpq-fe)\.h>$|^<libusb-1\.0/ the counter is a client: the gateway through client/, the register through registry/, no device'
# the renderer (gateway/renderer/README.md): it touches no store, key or device, and
# nothing else runs a layout engine
rules="$rules"'
gateway/renderer ^(gateway/(net|state|palm|ops|priv|keyholder)|drivers)(/|$)|^<(sqlite3|winscard|libusb|microhttpd)\.h>$|^<libusb-1\.0/|^<p11-kit/ the renderer lays out certificates and holds no store, key or device
gateway/priv ^<(cairo|cairo-pdf|qrencode)\.h>$|^<(pango|fontconfig)/ the layout engines run in the renderer only
gateway/ops ^<(cairo|cairo-pdf|qrencode)\.h>$|^<(pango|fontconfig)/ the layout engines run in the renderer only
gateway/shared ^<(cairo|cairo-pdf|qrencode)\.h>$|^<(pango|fontconfig)/ the layout engines run in the renderer only
gateway/state ^<(cairo|cairo-pdf|qrencode)\.h>$|^<(pango|fontconfig)/ the layout engines run in the renderer only
gateway/net ^<(cairo|cairo-pdf|qrencode)\.h>$|^<(pango|fontconfig)/ the layout engines run in the renderer only
gateway/keyholder ^<(cairo|cairo-pdf|qrencode)\.h>$|^<(pango|fontconfig)/ the layout engines run in the renderer only'

bad=$({
	find $dirs -name '*.h' 2>/dev/null | sed 's/^/H /'
	# shellcheck disable=SC2086
	grep -rHE --include='*.[ch]' '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' $dirs 2>/dev/null |
		sed 's/^/I /'
} | awk -v rules="$rules" '
BEGIN {
	n = split(rules, lines, "\n")
	for (i = 1; i <= n; i++) {
		split(lines[i], f, " ")
		folder[i] = f[1]; pat[i] = f[2]
		why[i] = lines[i]; sub(/^[^ ]+ [^ ]+ /, "", why[i])
	}
}
$1 == "H" { p = $2; name = p; sub(/.*\//, "", name); dir = p; sub(/\/[^\/]*$/, "", dir); home[name] = dir; next }
$1 == "I" {
	line = substr($0, 3); file = line; sub(/:.*/, "", file)
	inc = line; sub(/^[^:]*:[[:space:]]*#[[:space:]]*include[[:space:]]*/, "", inc)
	if (inc ~ /^"/) { name = inc; sub(/^"/, "", name); sub(/".*/, "", name); if (!(name in home)) next; where = home[name]; shown = "\"" name "\"" }
	else { where = inc; sub(/>.*/, ">", where); shown = where }
	for (i = 1; i <= n; i++)
		if (index(file, folder[i] "/") == 1 && where ~ pat[i])
			bad[file " includes " shown " (" where "): " why[i]] = 1
	# the register takes from the gateway only the document helpers (cert-plan)
	if (index(file, "registry/") == 1 && where ~ /^gateway(\/|$)/ && shown != "\"hwg_certdoc.h\"")
		bad[file " includes " shown " (" where "): the register uses only gateway/shared/hwg_certdoc.h of the gateway"] = 1
	# nor any driver but the HSM driver, where its keys may live (registry/reg_hsm.c)
	if (index(file, "registry/") == 1 && where ~ /^drivers(\/|$)/ && where != "drivers/hsm")
		bad[file " includes " shown " (" where "): the register knows no device; of the drivers it may use only drivers/hsm for its keys"] = 1
}
END {
	for (b in bad) print b
}' | sort)
[ -z "$bad" ] || { echo "$bad"; exit 1; }
