#!/bin/sh
# Puts the compatibility table of the last test_compat run (BUILD/compat/
# table.md) into README.md, between its compat-table markers.
#
#	sh tools/compat-table.sh [BUILD_DIR]	(default: build)
set -eu
cd "$(dirname "$0")/.."
table=${1:-build}/compat/table.md
[ -f "$table" ] || { echo "compat-table: no $table; run ctest -R test_compat first" >&2; exit 1; }
grep -q '^<!-- compat-table begin -->$' README.md ||
	{ echo "compat-table: README.md has no compat-table markers" >&2; exit 1; }
awk -v table="$table" '
	/^<!-- compat-table begin -->$/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
	/^<!-- compat-table end -->$/ { skip = 0 }
	!skip { print }
' README.md > README.md.new
mv README.md.new README.md
echo "compat-table: README.md now carries $table"
