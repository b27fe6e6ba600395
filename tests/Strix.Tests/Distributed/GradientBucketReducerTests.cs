using Strix.Distributed;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Tests.Distributed;

public class GradientBucketReducerTests
{
    /// <summary>A pretend two-rank group whose peer holds <paramref name="peerFactor"/> × this rank's buffer.</summary>
    sealed class PretendPeerGroup(double peerFactor) : IProcessGroup
    {
        public int Reductions;
        public string Backend => "pretend";
        public int Rank => 0;
        public int WorldSize => 2;
        public int LocalRank => 0;
        public int LocalWorldSize => 2;
        public TimeSpan Timeout { get; set; }
        public void AllReduceSum(Tensor t) { Reductions++; using (no_grad()) t.mul_(1 + peerFactor); }
        public void Broadcast(Tensor t, int root = 0) { }
        public void Barrier() { }
        public Tensor AllGather(Tensor t) => throw new NotSupportedException();
        public Tensor AllGatherVariable(Tensor t) => throw new NotSupportedException();
        public byte[][] AllGatherBytes(ReadOnlySpan<byte> data) => throw new NotSupportedException();
        public byte[] BroadcastBytes(byte[]? data, int root = 0) => throw new NotSupportedException();
        public void Abort(int exitCode, string reason) => throw new InvalidOperationException(reason);
        public void Dispose() { }
    }

    static Parameter[] Params(params long[] sizes) =>
        sizes.Select((n, i) => new Parameter(arange(n, dtype: ScalarType.Float32) + i)).ToArray();

    [Fact]
    public void Buckets_RespectTheByteLimit()
    {
        var ps = Params(100, 100, 100, 300); // 400 B, 400 B, 400 B, 1200 B
        using var r = new GradientBucketReducer(new PretendPeerGroup(1), ps, bucketBytes: 800);
        Assert.Equal(3, r.BucketCount); // [p0 p1] [p2] [p3 alone, larger than the limit]
        Assert.Equal(600, r.TotalElements);
    }

    [Fact]
    public void Reduce_AveragesOverRanks_AndKeepsMissingGradientsMissing()
    {
        var ps = Params(5, 3, 4);
        ps[0].grad = full(5, 2f);
        ps[2].grad = arange(4, dtype: ScalarType.Float32);
        // ps[1] has no gradient on any rank.
        var group = new PretendPeerGroup(peerFactor: 0); // the peer contributes zeros: the average is half
        using var r = new GradientBucketReducer(group, ps, bucketBytes: 1 << 20);
        r.Reduce();
        Assert.Equal(1, group.Reductions);
        Assert.Equal(new float[] { 1, 1, 1, 1, 1 }, ps[0].grad!.data<float>().ToArray());
        Assert.Equal(new float[] { 0, 0.5f, 1, 1.5f }, ps[2].grad!.data<float>().ToArray());
        Assert.Null(ps[1].grad);
    }

    [Fact]
    public void Reduce_WithAnIdenticalPeer_LeavesGradientsUnchanged()
    {
        var ps = Params(7, 9);
        ps[0].grad = linspace(-1, 1, 7);
        ps[1].grad = linspace(3, 4, 9);
        var before = ps.Select(p => p.grad!.clone()).ToArray();
        using var r = new GradientBucketReducer(new PretendPeerGroup(1), ps, bucketBytes: 16);
        r.Reduce();
        for (int i = 0; i < ps.Length; i++) Assert.True(ps[i].grad!.allclose(before[i]));
    }

    [Fact]
    public void SingleProcess_IsANoOp()
    {
        var ps = Params(3);
        ps[0].grad = ones(3);
        using var r = new GradientBucketReducer(SingleProcessGroup.Instance, ps);
        r.Reduce();
        Assert.Equal(new float[] { 1, 1, 1 }, ps[0].grad!.data<float>().ToArray());
    }
}
