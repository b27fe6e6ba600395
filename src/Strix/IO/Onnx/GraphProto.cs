using Google.Protobuf;

namespace Strix.IO.Onnx;

/// <summary>A computation graph: topologically sorted nodes, weights (initializers), inputs and outputs.</summary>
public sealed class GraphProto : OnnxMessage
{
    public List<NodeProto> Node { get; } = new();
    public string Name { get; set; } = "";
    public List<TensorProto> Initializer { get; } = new();
    public string DocString { get; set; } = "";
    public List<ValueInfoProto> Input { get; } = new();
    public List<ValueInfoProto> Output { get; } = new();
    public List<ValueInfoProto> ValueInfo { get; } = new();

    public override void WriteTo(CodedOutputStream output)
    {
        Wire.Messages(output, 1, Node);
        Wire.String(output, 2, Name);
        Wire.Messages(output, 5, Initializer);
        Wire.String(output, 10, DocString);
        Wire.Messages(output, 11, Input);
        Wire.Messages(output, 12, Output);
        Wire.Messages(output, 13, ValueInfo);
    }

    public override int CalculateSize() =>
        Wire.MessagesSize(1, Node) + Wire.StringSize(2, Name) + Wire.MessagesSize(5, Initializer) + Wire.StringSize(10, DocString)
        + Wire.MessagesSize(11, Input) + Wire.MessagesSize(12, Output) + Wire.MessagesSize(13, ValueInfo);

    protected override bool MergeField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: Node.Add(Wire.ReadMessage<NodeProto>(input)); return true;
            case 2: Name = input.ReadString(); return true;
            case 5: Initializer.Add(Wire.ReadMessage<TensorProto>(input)); return true;
            case 10: DocString = input.ReadString(); return true;
            case 11: Input.Add(Wire.ReadMessage<ValueInfoProto>(input)); return true;
            case 12: Output.Add(Wire.ReadMessage<ValueInfoProto>(input)); return true;
            case 13: ValueInfo.Add(Wire.ReadMessage<ValueInfoProto>(input)); return true;
            default: return false;
        }
    }
}
