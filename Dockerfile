# dnnlens: the dashboard on the shipped models, served on port 8501 (docs/DEPLOY.md).
#
#   docker build -t dnnlens --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu .
#   docker run --rm -p 8501:8501 dnnlens
#
# The app alone needs no Debian package beyond Python: every native library it loads comes inside a
# wheel (torch, scipy, soundfile, pocketsphinx, ...). packages-dev.txt lists what the tests and
# `make assets` need (Festival, flite, eSpeak NG, Open JTalk, Chromium, fonts) and is not installed.
# The build context is an allow-list (.dockerignore, checked by tests/test_deploy.py).

# A Debian bookworm image (Python 3.11). Where no registry is reachable, build one with debootstrap
# and pass --build-arg BASE=localhost/bookworm-base (docs/DEPLOY.md, scripts/podman_build.sh).
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# Where PyTorch comes from. Empty: pip's own configuration decides (a machine whose pip.conf finds
# the CPU wheel on its disk, mounted into this step by scripts/podman_build.sh). Elsewhere give the
# CPU wheel index, https://download.pytorch.org/whl/cpu: PyPI's Linux wheel is the CUDA build.
ARG TORCH_INDEX_URL=
COPY requirements.txt /tmp/requirements.txt
# torch first, in the version requirements.txt pins (the one place it is named), then the rest.
RUN python3 -m venv /opt/venv \
 && torch_pin=$(sed -n 's/^\(torch==[^ #]*\).*/\1/p' /tmp/requirements.txt) \
 && test -n "$torch_pin" \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
      ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "$torch_pin" \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt \
 && /opt/venv/bin/python -c "import torch; assert torch.version.cuda is None, 'not the CPU build'; print('torch', torch.__version__)"

FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER app
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD ["streamlit", "run", "dashboard.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]
