# Flywheel server image: a static binary on a distroless base, run as a
# non-root user, state in the /data volume.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#       --build-arg COMMIT=$(git rev-parse --short=12 HEAD) -t flywheel .
#   docker run -p 127.0.0.1:8080:8080 -v flywheel-data:/data flywheel
#
# compose.yaml runs it with PostgreSQL. packaging/packaging_test.go checks
# this file and runs its build command.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN VERSION=$VERSION COMMIT=$COMMIT packaging/build.sh /out
# The volume's mount point, owned by the runtime user (the base has no shell).
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/flywheel /usr/local/bin/flywheel
COPY --from=build --chown=65532:65532 /out/data /data
# distroless's "nonroot" user.
USER 65532:65532
# Inside the container the server listens on every interface; plain HTTP is
# allowed there because TLS is expected from a proxy in front (or set
# FLYWHEEL_TLS=auto, or FLYWHEEL_TLS_CERT and FLYWHEEL_TLS_KEY).
ENV FLYWHEEL_ADDR=0.0.0.0:8080 \
    FLYWHEEL_DATA=/data \
    FLYWHEEL_INSECURE_HTTP=true
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/flywheel", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/flywheel"]
CMD ["serve"]
