#!/bin/sh
# Debian's torch 1.13 calls the system BLAS through the generic libblas.so.3 interface, which on this
# image is the reference (netlib) BLAS: about 2 GFLOP/s on one core. OpenBLAS's libblas.so.3 is a
# drop-in for the same symbols (about 30 GFLOP/s). This unpacks it under tools/train/work/openblas
# without installing it, so the system BLAS stays as it is for everyone else; tools/train/py puts it
# first on LD_LIBRARY_PATH for the training tools only.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="$here/work/openblas"
mkdir -p "$dest"
cd "$dest"
apt-get download libopenblas0-pthread
dpkg-deb -x libopenblas0-pthread_*.deb root
ls "$dest/root/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"
