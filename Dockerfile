# QBC node image: the static qbc binary and nothing else.
#
# There is no image registry here, so the binary is built on the host first
# (no cgo, so it runs in an empty image; the -X flags stamp what 'qbc
# version' prints) and copied in:
#
#   CGO_ENABLED=0 go build -trimpath -o bin/qbc \
#     -ldflags "-X main.version=$(git describe --tags --always --dirty) -X main.commit=$(git rev-parse HEAD)" ./cmd/qbc
#   docker build -t qbc .
#   docker run --rm -p 127.0.0.1:5000:5000 -v qbc-data:/data qbc
#
# The default command runs one node: it listens on every interface of the
# container, so that the published port reaches it, and advertises
# 127.0.0.1:5000 to peers, which is right for a lone node only. Nodes that
# peer with each other give their own --advertise (as docker-compose.yml
# does), replacing this command.
FROM scratch
COPY bin/qbc /qbc
VOLUME /data
EXPOSE 5000
ENTRYPOINT ["/qbc"]
CMD ["node", "--addr", "0.0.0.0:5000", "--advertise", "127.0.0.1:5000", "--data-dir", "/data"]
