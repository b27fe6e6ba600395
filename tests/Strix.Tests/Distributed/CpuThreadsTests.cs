using Strix.Distributed;

namespace Strix.Tests.Distributed;

public class CpuThreadsTests
{
    [Theory]
    [InlineData(1, 16, 16, 16)] // one rank: all cores
    [InlineData(2, 16, 16, 8)]  // unbound ranks split the machine
    [InlineData(3, 16, 16, 5)]
    [InlineData(4, 2, 2, 1)]    // more ranks than cores: still one thread each
    [InlineData(2, 1, 16, 1)]   // mpirun bound this rank to one core
    [InlineData(4, 8, 16, 4)]   // bound to a socket of 8 shared by 2 ranks of 4 on the node
    public void PerRank_SplitsCoresAmongLocalRanks(int localRanks, int available, int online, int expected) =>
        Assert.Equal(expected, CpuThreads.PerRank(localRanks, available, online));
}
