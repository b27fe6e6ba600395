using Google.Protobuf;

namespace Strix.IO.Onnx;

/// <summary>The type of a graph value. Only tensor types are modelled; other kinds are skipped on read.</summary>
public sealed class TypeProto : OnnxMessage
{
    public Tensor? TensorType { get; set; }
    public string Denotation { get; set; } = "";

    /// <summary>A dense tensor type: element type and (optional) shape.</summary>
    public sealed class Tensor : OnnxMessage
    {
        public OnnxDataType ElemType { get; set; }
        public TensorShapeProto? Shape { get; set; }

        public override void WriteTo(CodedOutputStream output)
        {
            output.WriteTag(1, WireFormat.WireType.Varint);
            output.WriteInt32((int)ElemType);
            Wire.Message(output, 2, Shape);
        }

        public override int CalculateSize() =>
            CodedOutputStream.ComputeTagSize(1) + CodedOutputStream.ComputeInt32Size((int)ElemType) + Wire.MessageSize(2, Shape);

        protected override bool MergeField(CodedInputStream input, int field, WireFormat.WireType wire)
        {
            switch (field)
            {
                case 1: ElemType = (OnnxDataType)input.ReadInt32(); return true;
                case 2: Shape = Wire.ReadMessage<TensorShapeProto>(input); return true;
                default: return false;
            }
        }
    }

    /// <summary>A tensor type of <paramref name="elemType"/> with the given shape (null = unknown rank).</summary>
    public static TypeProto ForTensor(OnnxDataType elemType, TensorShapeProto? shape) =>
        new() { TensorType = new Tensor { ElemType = elemType, Shape = shape } };

    public override void WriteTo(CodedOutputStream output)
    {
        Wire.Message(output, 1, TensorType);
        Wire.String(output, 6, Denotation);
    }

    public override int CalculateSize() => Wire.MessageSize(1, TensorType) + Wire.StringSize(6, Denotation);

    protected override bool MergeField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: TensorType = Wire.ReadMessage<Tensor>(input); return true;
            case 6: Denotation = input.ReadString(); return true;
            default: return false;
        }
    }
}
