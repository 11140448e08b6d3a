#!/usr/bin/env python3
"""Replace the text between <!-- NAME:begin ... --> and <!-- NAME:end --> in a
file with the contents of another file: replace-block.py FILE NAME SOURCE."""
import re
import sys

path, name, source = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
block = open(source, encoding="utf-8").read().rstrip("\n")
pattern = re.compile(r"(<!-- %s:begin[^>]*-->\n)(.*?)(<!-- %s:end -->)" % (name, name), re.S)
if not pattern.search(text):
    sys.exit(f"{path}: no <!-- {name}:begin --> ... <!-- {name}:end --> block")
text = pattern.sub(lambda m: m.group(1) + block + "\n" + m.group(3), text, count=1)
open(path, "w", encoding="utf-8").write(text)
