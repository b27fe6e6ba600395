using Strix.Distributed;

namespace Strix.Engine.Strategies;

/// <summary>One process on one device: every hook is the identity. The trainer's default.</summary>
public sealed class SingleDeviceStrategy : Strategy
{
    public static SingleDeviceStrategy Instance { get; } = new();
    public override IProcessGroup Group => SingleProcessGroup.Instance;
}
