#!/usr/bin/env bash
# Regenerates the man pages in docs/man/ (pirvault.1 and one page per
# subcommand) from pirvault's own argument definitions, with argument-parser's
# generate-manual tool, so they say what `--help` says. Run it after changing
# any command, argument or help text, and commit the result;
# Tests/PirvaultCLITests/ManPageTests fails until you do.
#
#   scripts/make-man-pages.sh
#
# The date in the pages is fixed (MAN_DATE) so regenerating does not change
# every file; bump it when the pages change for a release.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MAN_DATE=2026-12-01

swift build --product pirvault
pirvault="$(swift build --show-bin-path)/pirvault"

# The tool is built from the argument-parser checkout this package resolved
# (the same version pirvault links), in its own scratch folder under .build.
parser=.build/checkouts/swift-argument-parser
scratch=.build/generate-manual
swift build --package-path "$parser" --scratch-path "$scratch" --product generate-manual
tool="$(swift build --package-path "$parser" --scratch-path "$scratch" --show-bin-path)/generate-manual"

rm -rf docs/man
mkdir -p docs/man
"$tool" "$pirvault" --multi-page --date "$MAN_DATE" --output-directory docs/man
# Not a page of ours: argument-parser's built-in `help` subcommand.
rm -f docs/man/pirvault.help.1
ls docs/man
