"""Reading passages for an answer: the extractive reader, its windows and its calibration."""
