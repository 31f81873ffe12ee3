# teamfoned in a container: the daemon (`teamfoned run`) with its HTTP module on port 8080.
# Not built or run in CI (no container engine there); tests/integration/test_compose.py
# checks that every file this refers to exists.
FROM python:3.11-slim-bookworm

RUN useradd --system --home-dir /var/lib/teamfoned --create-home teamfoned
WORKDIR /src
COPY setup.cfg pyproject.toml README.md ./
COPY teamfoned ./teamfoned
RUN pip install --no-cache-dir . && rm -rf /src
COPY contrib/docker/teamfoned.yaml /etc/teamfoned/teamfoned.yaml

USER teamfoned
WORKDIR /var/lib/teamfoned
VOLUME /var/lib/teamfoned
ENV TEAMFONED_CONFIG=/etc/teamfoned/teamfoned.yaml
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"
# Migrate first (a no-op when current), then run; SIGTERM drains calls as under systemd.
CMD ["sh", "-c", "teamfoned db upgrade && exec teamfoned run"]
