# dropfeed: a static binary on a distroless base, running as a non-root user.
#   docker build -t dropfeed .
#   docker run -p 8080:8080 -v "$PWD/articles:/content:ro" -v dropfeed-state:/state \
#     -e DROPFEED_BASE_URL=https://feeds.example.org/ dropfeed
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/dropfeed ./cmd/dropfeed \
 && mkdir -p /out/content /out/state

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dropfeed /usr/local/bin/dropfeed
COPY --from=build --chown=65532:65532 /out/content /content
COPY --from=build --chown=65532:65532 /out/state /state
# The content folder can be mounted read-only: ids and dates live in /state.
ENV DROPFEED_DIR=/content \
    DROPFEED_STATE=/state/state.db \
    DROPFEED_ADDR=:8080
VOLUME ["/content", "/state"]
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/dropfeed"]
CMD ["serve"]
