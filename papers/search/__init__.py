"""Search that understands Chinese (issue 15): segmentation, the index, queries."""
