"""Parses a Prometheus text exposition (stdin) with prometheus_client's own
parser, which pirvault did not write, and prints what it found as JSON:
{"families": {name: {"type": ..., "help": ..., "samples": [[name, labels, value], ...]}}}.
Exits 1 with one line on stderr if the text does not parse."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

try:
    families = {}
    for family in text_string_to_metric_families(sys.stdin.read()):
        families[family.name] = {
            "type": family.type,
            "help": family.documentation,
            "samples": [[s.name, s.labels, s.value] for s in family.samples],
        }
except Exception as error:  # the parser's own error says what broke
    print(f"the metrics text does not parse: {error}", file=sys.stderr)
    sys.exit(1)
print(json.dumps({"families": families}))
