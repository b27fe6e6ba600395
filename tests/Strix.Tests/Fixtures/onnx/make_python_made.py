"""Makes python_made.onnx with ONNX's own Python writer, to test Strix's ONNX reader against.

Run with Debian's python3-onnx:  /usr/bin/python3 make_python_made.py
Covers typed data fields (float_data, int64_data, int32_data for float16, double_data), raw_data,
every scalar/list attribute kind, symbolic and fixed dims, metadata, and fields Strix does not
model (sparse initializers, training info, functions) which the reader must skip.
"""
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper

w_typed = helper.make_tensor("w_typed", TensorProto.FLOAT, [2, 3], [0.5, -1.25, 2.0, 3.5, -4.0, 1e-3])
w_raw = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(3, 2) * 0.25, "w_raw")
i64 = helper.make_tensor("shape_i64", TensorProto.INT64, [3], [0, -1, 123456789012])
h16 = helper.make_tensor("half_typed", TensorProto.FLOAT16, [3],
                         [1.5, -2.0, 65504.0])  # onnx stores float16 bit patterns in int32_data
h16_raw = numpy_helper.from_array(np.array([0.1, 0.2], dtype=np.float16), "half_raw")
dbl = helper.make_tensor("dbl", TensorProto.DOUBLE, [2], [1.0 / 3.0, -7.0])

node_mm = helper.make_node("MatMul", ["x", "w_typed"], ["y"], name="mm", doc_string="matmul doc")
node_attr = helper.make_node(
    "Identity", ["y"], ["z"], name="ident",
    f_attr=0.75, i_attr=-3, s_attr="hello", t_attr=helper.make_tensor("t", TensorProto.INT64, [2], [7, 8]),
    floats_attr=[1.0, 2.5], ints_attr=[1, 2, 3], strings_attr=["a", "bc"])
graph = helper.make_graph(
    [node_mm, node_attr], "python_made",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])],
    [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", 3])],
    initializer=[w_typed, w_raw, i64, h16, h16_raw, dbl],
    value_info=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])],
    doc_string="graph doc",
    sparse_initializer=[helper.make_sparse_tensor(
        helper.make_tensor("sp_values", TensorProto.FLOAT, [1], [9.0]),
        helper.make_tensor("sp_idx", TensorProto.INT64, [1], [2]), [4])],
)
model = helper.make_model(graph, producer_name="onnx-python", producer_version=onnx.__version__,
                          opset_imports=[helper.make_opsetid("", 17)], doc_string="model doc")
model.ir_version = 8
model.model_version = 5
helper.set_model_props(model, {"names": "{0: 'person', 1: \"it's\"}", "stride": "32"})
model.functions.extend([helper.make_function("custom", "Fn", ["a"], ["b"],
                        [helper.make_node("Identity", ["a"], ["b"])], [helper.make_opsetid("", 17)])])
model.training_info.extend([onnx.TrainingInfoProto()])
onnx.save(model, "python_made.onnx")
print("wrote python_made.onnx", len(model.SerializeToString()), "bytes")
