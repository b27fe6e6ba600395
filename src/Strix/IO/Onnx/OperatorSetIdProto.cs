using Google.Protobuf;

namespace Strix.IO.Onnx;

/// <summary>An imported operator set: domain ("" = ai.onnx) and its version.</summary>
public sealed class OperatorSetIdProto : OnnxMessage
{
    public string Domain { get; set; } = "";
    public long Version { get; set; }

    public OperatorSetIdProto() { }
    public OperatorSetIdProto(string domain, long version) { Domain = domain; Version = version; }

    public override void WriteTo(CodedOutputStream output)
    {
        Wire.String(output, 1, Domain);
        Wire.Int64(output, 2, Version);
    }

    public override int CalculateSize() => Wire.StringSize(1, Domain) + Wire.Int64Size(2, Version);

    protected override bool MergeField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: Domain = input.ReadString(); return true;
            case 2: Version = input.ReadInt64(); return true;
            default: return false;
        }
    }
}
