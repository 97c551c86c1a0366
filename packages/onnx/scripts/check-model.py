"""External validation of exported models with the reference ONNX implementation (Debian: python3-onnx).

Usage: /usr/bin/python3 scripts/check-model.py MODEL.onnx [MODEL.onnx ...]
For each file: onnx.checker.check_model(model, full_check=True) (schema, types and strict shape inference), then
prints one JSON line: {"file", "ok", "ir_version", "opset", "onnx_version", "inferred_outputs"} or {"file", "ok": false, "error"}.
Exits 1 if any file fails.
"""
import json
import sys

import onnx

failed = False
for path in sys.argv[1:]:
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
        outputs = {
            o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in inferred.graph.output
        }
        opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
        print(json.dumps({"file": path, "ok": True, "ir_version": model.ir_version, "opset": opset,
                          "onnx_version": onnx.__version__, "inferred_outputs": outputs}))
    except Exception as err:  # noqa: BLE001 - report every failure as data
        failed = True
        print(json.dumps({"file": path, "ok": False, "error": f"{type(err).__name__}: {err}"}))
sys.exit(1 if failed else 0)
