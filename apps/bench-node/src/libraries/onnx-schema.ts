/**
 * The part of onnx/onnx.proto (proto2, IR version ≥ 3) that `toOnnx` writes, as a protobufjs JSON descriptor:
 * the same messages, field numbers and types, so protobufjs encodes the same model. Written out here
 * (nothing is downloaded); fields the serializer never sets are left out.
 */
import protobuf from 'protobufjs';

const opt = (id: number, type: string) => ({ id, type });
const rep = (id: number, type: string) => ({ id, type, rule: 'repeated' });

export const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: opt(1, 'string'), value: opt(2, 'string') } },
        OperatorSetIdProto: { fields: { domain: opt(1, 'string'), version: opt(2, 'int64') } },
        TensorProto: {
          fields: {
            dims: rep(1, 'int64'),
            data_type: opt(2, 'int32'),
            name: opt(8, 'string'),
            raw_data: opt(9, 'bytes'),
            external_data: rep(13, 'StringStringEntryProto'),
            data_location: opt(14, 'int32'),
          },
        },
        AttributeProto: {
          fields: {
            name: opt(1, 'string'),
            f: opt(2, 'float'),
            i: opt(3, 'int64'),
            s: opt(4, 'bytes'),
            t: opt(5, 'TensorProto'),
            floats: rep(7, 'float'),
            ints: rep(8, 'int64'),
            strings: rep(9, 'bytes'),
            type: opt(20, 'int32'),
          },
        },
        NodeProto: {
          fields: { input: rep(1, 'string'), output: rep(2, 'string'), name: opt(3, 'string'), op_type: opt(4, 'string'), attribute: rep(5, 'AttributeProto'), domain: opt(7, 'string') },
        },
        TensorShapeProto: {
          fields: { dim: rep(1, 'Dimension') },
          nested: { Dimension: { oneofs: { value: { oneof: ['dim_value', 'dim_param'] } }, fields: { dim_value: opt(1, 'int64'), dim_param: opt(2, 'string') } } },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensor_type'] } },
          fields: { tensor_type: opt(1, 'Tensor') },
          nested: { Tensor: { fields: { elem_type: opt(1, 'int32'), shape: opt(2, 'TensorShapeProto') } } },
        },
        ValueInfoProto: { fields: { name: opt(1, 'string'), type: opt(2, 'TypeProto') } },
        GraphProto: {
          fields: { node: rep(1, 'NodeProto'), name: opt(2, 'string'), initializer: rep(5, 'TensorProto'), input: rep(11, 'ValueInfoProto'), output: rep(12, 'ValueInfoProto') },
        },
        ModelProto: {
          fields: { ir_version: opt(1, 'int64'), producer_name: opt(2, 'string'), producer_version: opt(3, 'string'), graph: opt(7, 'GraphProto'), opset_import: rep(8, 'OperatorSetIdProto') },
        },
      },
    },
  },
};

/** The ModelProto type of {@link ONNX_SCHEMA}. */
export function onnxModelType(): protobuf.Type {
  // protobufjs's JSON descriptor type is looser than this literal; fromJSON validates it.
  return protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
}
