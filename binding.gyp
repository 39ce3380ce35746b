{
  "variables": {
    "isa_flags_avx2": ["-mavx2", "-mfma", "-mf16c"],
    "isa_flags_avx512": ["-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq"]
  },
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fPIC"],
    "cflags": ["-O3", "-fPIC"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"]
  },
  "targets": [
    {
      "target_name": "tt_isa_avx2",
      "type": "static_library",
      "sources": ["<!@(node -p \"require('./native/sources.json').avx2.join(' ')\")"],
      "cflags_cc": ["<@(isa_flags_avx2)"]
    },
    {
      "target_name": "tt_isa_avx512",
      "type": "static_library",
      "sources": ["<!@(node -p \"require('./native/sources.json').avx512.join(' ')\")"],
      "cflags_cc": ["<@(isa_flags_avx512)"]
    },
    {
      "target_name": "tt_isa_avx512bf16",
      "type": "static_library",
      "sources": ["<!@(node -p \"require('./native/sources.json').avx512bf16.join(' ')\")"],
      "cflags_cc": ["<@(isa_flags_avx512)", "-mavx512bf16"]
    },
    {
      "target_name": "tt_isa_avx512vnni",
      "type": "static_library",
      "sources": ["<!@(node -p \"require('./native/sources.json').avx512vnni.join(' ')\")"],
      "cflags_cc": ["<@(isa_flags_avx512)", "-mavx512vnni"]
    },
    {
      "target_name": "thinktree",
      "sources": ["<!@(node -p \"require('./native/sources.json').cpu.join(' ')\")"],
      "dependencies": ["tt_isa_avx2", "tt_isa_avx512", "tt_isa_avx512bf16", "tt_isa_avx512vnni"],
      "libraries": ["-lpthread", "-ldl"]
    }
  ]
}
