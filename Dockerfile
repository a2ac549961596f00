# One image per component: docker build --build-arg COMPONENT=intake -t harambee-intake .
# The container runs `python -m harambee_<COMPONENT> <verb>`; the verb (migrate or serve) is the command.
FROM python:3.11-slim

ARG COMPONENT
RUN test -n "$COMPONENT" || { echo "build with --build-arg COMPONENT=<gateway|intake|assessment|interventions|audit|monitoring>" >&2; exit 1; }

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml ./
COPY lib ./lib
COPY gateway ./gateway
COPY services ./services
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home harambee

USER 10001
# Listen on every interface inside the container; only the gateway is published by compose.
ENV COMPONENT=${COMPONENT} \
    HOST=0.0.0.0
ENTRYPOINT ["sh", "-c", "exec python -m \"harambee_${COMPONENT}\" \"$@\"", "harambee"]
CMD ["serve"]
