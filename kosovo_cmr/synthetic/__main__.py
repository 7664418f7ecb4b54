"""``python -m kosovo_cmr.synthetic OUT_DIR``: write the SYNTHETIC demo layers."""

from kosovo_cmr.synthetic.layers import main

main()
