"""Pictures and videos in and out: decoding, colour (ICC, nclx, HDR, Y'CbCr), animations, video and its tracks."""
