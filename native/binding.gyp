{
  "targets": [
    {
      "target_name": "medseg_native",
      "sources": [
        "src/addon.cc",
        "src/handle.cc",
        "src/ops_basic.cc",
        "src/ops_nn.cc",
        "src/conv.cc",
        "src/fused.cc",
        "src/allocator.cc",
        "src/guard.cc",
        "src/device.cc",
        "src/distributed.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node -p \"require('./torch-config.json').includeDirs.join(' ')\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "_GLIBCXX_USE_CXX11_ABI=<!(node -p \"require('./torch-config.json').cxx11Abi\")",
        "MEDSEG_HAS_CUDA=<!(node -p \"require('./torch-config.json').cuda ? 1 : 0\")"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": [
        "-L<!(node -p \"require('./torch-config.json').libDir\")",
        "-Wl,-rpath,<!(node -p \"require('./torch-config.json').libDir\")",
        "-Wl,--no-as-needed",
        "<!@(node -p \"require('./torch-config.json').cuda ? '-ltorch_cuda -lc10_cuda' : ''\")",
        "-ltorch_cpu",
        "-ltorch",
        "-lc10",
        "-Wl,--as-needed"
      ]
    }
  ]
}
