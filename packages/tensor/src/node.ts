// Node-only entry: file-backed byte sources and safetensors files on disk.
export {};
