import { describe, expect, it } from 'vitest';
import { SecurityProfile_ProfileType as ProfileType } from '../../../src/gen/runtime/v1/api.js';
import { apparmorProfileName, DEFAULT_APPARMOR_PROFILE } from '../../../src/runtimes/oci/opts/security.js';
import { defaultProfileText } from '../../../src/runtimes/oci/apparmor.js';

const rd = { profileType: ProfileType.RuntimeDefault, localhostRef: '' };

describe('AppArmor profile choice', () => {
  it('maps RuntimeDefault to the loaded default profile, and to none when it could not be loaded', () => {
    expect(apparmorProfileName(rd, false, true, DEFAULT_APPARMOR_PROFILE)).toBe(DEFAULT_APPARMOR_PROFILE);
    expect(apparmorProfileName(rd, false, true, undefined)).toBeUndefined();
    expect(apparmorProfileName(undefined, false, true, 'custom')).toBe('custom');
  });
  it('uses no profile when AppArmor is off, for privileged containers and Unconfined', () => {
    expect(apparmorProfileName(rd, false, false, DEFAULT_APPARMOR_PROFILE)).toBeUndefined();
    expect(apparmorProfileName(rd, true, true, DEFAULT_APPARMOR_PROFILE)).toBeUndefined();
    expect(apparmorProfileName({ profileType: ProfileType.Unconfined, localhostRef: '' }, false, true, DEFAULT_APPARMOR_PROFILE)).toBeUndefined();
  });
  it('refuses a Localhost profile on a host without AppArmor', () => {
    expect(() => apparmorProfileName({ profileType: ProfileType.Localhost, localhostRef: 'x' }, false, false, undefined)).toThrow(/not enabled/);
  });
  it('writes a profile that denies mounts and the host firmware/security trees', () => {
    const t = defaultProfileText('p');
    expect(t).toMatch(/^profile p flags=/m);
    expect(t).toContain('deny mount,');
    expect(t).toContain('deny /sys/kernel/security/** rwklx,');
  });
});
