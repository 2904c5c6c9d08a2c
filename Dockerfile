# One image for every component: `egovsim serve <component>` (docker-compose.yml) or `egovsim up`.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY egovsim ./egovsim
COPY signing ./signing
COPY gateway ./gateway
COPY portal ./portal
COPY cabinet ./cabinet
COPY mock_registries ./mock_registries
RUN pip install . && useradd --create-home --uid 10001 egovsim && mkdir /data && chown egovsim /data
USER egovsim
ENV EGOVSIM_HOST=0.0.0.0 EGOVSIM_DATA_DIR=/data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=4s CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=3).status != 200)"
CMD ["egovsim", "up", "--host", "0.0.0.0"]
