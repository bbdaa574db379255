# evnn with the CUDA backend enabled: NVIDIA CUDA devel base (nvcc, cuBLAS) + Node 20.
# Build:  docker build -t evnn .
# Run:    docker run --gpus all --rm -v $PWD/results:/evnn/results evnn run configs/smnist-gru-quick.yaml
FROM nvidia/cuda:12.6.3-devel-ubuntu22.04

ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg cmake g++ make libopenblas-dev python3 \
 && mkdir -p /etc/apt/keyrings \
 && curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor -o /etc/apt/keyrings/nodesource.gpg \
 && echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_20.x nodistro main" > /etc/apt/sources.list.d/nodesource.list \
 && apt-get update && apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /evnn
COPY package.json package-lock.json ./
COPY native ./native
COPY scripts ./scripts
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
COPY configs ./configs
# EVNN_CUDA=1 turns on the CUDA backend in native/CMakeLists.txt; EVNN_REQUIRE_NATIVE makes a
# failed native build fail the image build instead of only warning.
ENV EVNN_CUDA=1 EVNN_REQUIRE_NATIVE=1
RUN npm ci --no-audit --no-fund

ENTRYPOINT ["node", "/evnn/bin/evnn.js"]
CMD ["info"]
