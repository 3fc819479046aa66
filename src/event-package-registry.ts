import type { EventPackage } from './event-package.js';

/**
 * The event packages this server serves (Kamailio's presence module keeps the same kind of
 * table). SUBSCRIBE and PUBLISH look the package up here; `Allow-Events` is built from it.
 */
export class EventPackageRegistry {
  private readonly packages = new Map<string, EventPackage>();

  register(pkg: EventPackage): this {
    if (this.packages.has(pkg.name)) throw new Error(`event package ${pkg.name} registered twice`);
    this.packages.set(pkg.name, pkg);
    return this;
  }

  /** Event package tokens are case-sensitive (RFC 6665 8.2.1) but phones send them lower-case. */
  get(name: string): EventPackage | undefined {
    return this.packages.get(name);
  }

  names(): string[] {
    return [...this.packages.keys()];
  }

  all(): EventPackage[] {
    return [...this.packages.values()];
  }
}
